using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Pipeline;

public sealed record StageResult(string Stage, int Processed, int Failed)
{
    public int Touched => Processed + Failed;
}

/// <summary>
/// The per-document stages after ingestion. Each takes what is missing from the database, processes it in parallel,
/// stores the result idempotently, and records a document it cannot process instead of failing the batch.
/// Transient database errors propagate, so that Hangfire retries the job.
/// </summary>
public sealed partial class PipelineStages(
    StageStore store,
    DocumentProcessor processor,
    IOptions<PipelineOptions> options,
    ILogger<PipelineStages> logger)
{
    public async Task<StageResult> ProcessImagesAsync(int limit, CancellationToken ct)
    {
        await using var claim = await store.ClaimMissingImagesAsync(processor.ImageProcessor, processor.ImageVersion, options.Value.MaxAttempts, limit, ct,
            options.Value.RetryAfterSeconds);
        return await RunAsync(StageStore.ImageStage, processor.ImageVersion, claim.Items, async (doc, token) =>
        {
            var relative = processor.ProcessedImagePath(doc.Id);
            var made = await Task.Run(() => processor.ProcessImage(processor.DataPath(doc.FilePath), doc.Format, processor.DataPath(relative)), token);
            await store.AddProcessedImageAsync(doc.Id, relative, made.Value.Width, made.Value.Height, made.Processor, made.Version, token);
        }, ct);
    }

    public async Task<StageResult> ExtractTextAsync(int limit, CancellationToken ct)
    {
        await using var claim = await store.ClaimMissingTextAsync(processor.OcrProcessor, processor.OcrVersion, options.Value.MaxAttempts, limit, ct,
            options.Value.RetryAfterSeconds);
        return await RunAsync(StageStore.OcrStage, processor.OcrVersion, claim.Items, async (doc, token) =>
        {
            var made = await processor.ExtractTextAsync(processor.DataPath(doc.FilePath), doc.Format, token);
            await store.AddRawTextAsync(doc.Id, made, token);
            PipelineMetrics.OcrDocuments.WithLabels(made.Value.Method).Inc();
            PipelineMetrics.OcrPages.WithLabels(made.Value.Method).Inc(doc.PageCount);
            PipelineMetrics.OcrDuration.WithLabels(made.Value.Method).Observe(made.Milliseconds / 1000);
        }, ct);
    }

    public async Task<StageResult> CleanTextAsync(int limit, CancellationToken ct)
    {
        await using var claim = await store.ClaimMissingCleanTextAsync(DocumentProcessor.CleanProcessor, DocumentProcessor.CleanVersion, limit, ct);
        var todo = claim.Items;
        foreach (var raw in todo)
        {
            var made = DocumentProcessor.Clean(raw.Text);
            await store.AddProcessedTextAsync(raw.Id, raw.DocumentId, made.Value, made.Processor, made.Version, ct);
            PipelineMetrics.StageDocuments.WithLabels(StageStore.TextStage, "processed").Inc();
        }
        return new StageResult(StageStore.TextStage, todo.Count, 0);
    }

    public Task<PipelineBacklog> BacklogAsync(CancellationToken ct) =>
        store.BacklogAsync(processor.ImageProcessor, processor.ImageVersion, processor.OcrProcessor, processor.OcrVersion,
            DocumentProcessor.CleanProcessor, DocumentProcessor.CleanVersion, options.Value.MaxAttempts, ct);

    /// <remarks>
    /// Each start on a document is counted until its outcome is known (<see cref="StageStore.StartAsync"/>): a document the
    /// worker died on before is worked on alone, after the others, so that a crash is charged to it and not to the
    /// documents beside it, and after <see cref="PipelineOptions.MaxAttempts"/> such deaths the next claim sets it aside.
    /// </remarks>
    private async Task<StageResult> RunAsync(string stage, string version, IReadOnlyList<StoredDocument> todo,
        Func<StoredDocument, CancellationToken, Task> work, CancellationToken ct)
    {
        var failed = 0;
        async ValueTask ProcessAsync(StoredDocument doc, CancellationToken token)
        {
            var watch = Stopwatch.StartNew();
            await store.StartAsync(doc.Id, stage, version, token);
            try
            {
                await work(doc, token);
                PipelineMetrics.StageDuration.WithLabels(stage).Observe(watch.Elapsed.TotalSeconds);
                PipelineMetrics.StageDocuments.WithLabels(stage, "processed").Inc();
            }
            catch (Exception ex) when (IsDocumentProblem(ex))
            {
                Interlocked.Increment(ref failed);
                PipelineMetrics.StageDocuments.WithLabels(stage, "failed").Inc();
                LogStageFailure(stage, doc.Id, ex.Message);
                await store.RecordFailureAsync(doc.Id, stage, version, $"{ex.GetType().Name}: {ex.Message}", token);
            }
            finally
            {
                try
                {
                    await store.FinishAsync(doc.Id, stage, version);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    // The database went away: the start stays counted as if the process had died on the document.
                    LogFinishNotRecorded(stage, doc.Id, ex.Message);
                }
            }
        }

        var diedOn = await store.DiedOnBeforeAsync(todo.Select(d => d.Id).ToList(), stage, version, ct);
        await Parallel.ForEachAsync(todo.Where(d => !diedOn.Contains(d.Id)),
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.Parallelism, CancellationToken = ct }, ProcessAsync);
        foreach (var doc in todo.Where(d => diedOn.Contains(d.Id)))
        {
            LogAlone(stage, doc.Id);
            await ProcessAsync(doc, ct);
        }
        return new StageResult(stage, todo.Count - failed, failed);
    }

    // Cancellation, an unreachable database and a broken setup (Tesseract or mutool missing) are not the document's
    // fault: the job fails and is retried, and no attempt counts against the document.
    internal static bool IsDocumentProblem(Exception ex) =>
        ex is not OperationCanceledException && ex is not NpgsqlException { IsTransient: true } && ex is not OutOfMemoryException
        && ex is not (Ocr.OcrSetupException or ImageProcessing.PdfRendererSetupException)
        && !IsDiskFull(ex);

    /// <summary>ENOSPC/EDQUOT: the volume, not the document, is the problem; the job fails and is retried instead of
    /// counting an attempt against the document.</summary>
    internal static bool IsDiskFull(Exception ex) => ex is IOException { HResult: 28 or 122 } || (ex.InnerException is { } inner && IsDiskFull(inner));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage {Stage} could not process {DocumentId}: {Error}")]
    private partial void LogStageFailure(string stage, string documentId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage {Stage}: the worker stopped on {DocumentId} before; working on it alone")]
    private partial void LogAlone(string stage, string documentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage {Stage}: could not record the end of its work on {DocumentId}: {Error}")]
    private partial void LogFinishNotRecorded(string stage, string documentId, string error);
}

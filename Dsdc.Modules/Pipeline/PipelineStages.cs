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
    /// Each start on a document is counted until its outcome is known (<see cref="StageStore.StartAsync"/>). A document the
    /// worker died on before is worked on after the others and alone among its process's image and OCR work
    /// (<see cref="WorkGate"/>: no other document of those stages starts meanwhile, and it starts once those in flight are
    /// done), so that a death then is most likely its own and not one of the documents beside it; after
    /// <see cref="PipelineOptions.MaxAttempts"/> such deaths the next claim sets it aside.
    /// </remarks>
    private async Task<StageResult> RunAsync(string stage, string version, IReadOnlyList<StoredDocument> todo,
        Func<StoredDocument, CancellationToken, Task> work, CancellationToken ct)
    {
        await FinishPendingAsync();
        var failed = 0;
        async ValueTask ProcessAsync(StoredDocument doc, bool alone, CancellationToken token)
        {
            using var entry = alone ? await WorkGate.AloneAsync(token) : await WorkGate.BesideOthersAsync(token);
            var watch = Stopwatch.StartNew();
            // Not cancellable once sent: a start the server counted must be taken back.
            await store.StartAsync(doc.Id, stage, version, alone, CancellationToken.None);
            var stored = false;
            var outOfMemory = false;
            try
            {
                token.ThrowIfCancellationRequested();
                await work(doc, token);
                stored = true;
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
            catch (Exception ex) when (IsOutOfMemory(ex))
            {
                // Not the document's failure (the job fails and is retried), but counted as a death: memory ran out on it.
                outOfMemory = true;
                throw;
            }
            finally
            {
                if (!outOfMemory) await FinishAsync(new PendingFinish(doc.Id, stage, version, alone, stored));
            }
        }

        var diedOn = await store.DiedOnBeforeAsync(todo.Select(d => d.Id).ToList(), stage, version, ct);
        await Parallel.ForEachAsync(todo.Where(d => !diedOn.Contains(d.Id)),
            new ParallelOptions { MaxDegreeOfParallelism = options.Value.Parallelism, CancellationToken = ct },
            (doc, token) => ProcessAsync(doc, false, token));
        foreach (var doc in todo.Where(d => diedOn.Contains(d.Id)))
        {
            LogAlone(stage, doc.Id);
            await ProcessAsync(doc, true, ct);
        }
        return new StageResult(stage, todo.Count - failed, failed);
    }

    private sealed record PendingFinish(string DocumentId, string Stage, string Version, bool Alone, bool Stored);

    // Finishes that could not be written (the database unreachable) are written at the next batch of this process.
    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingFinish> Pending = new();

    private async Task FinishAsync(PendingFinish finish)
    {
        try
        {
            await store.FinishAsync(finish.DocumentId, finish.Stage, finish.Version, finish.Alone, finish.Stored);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // Never masks the exception being thrown; until written, the start counts as a death.
            Pending.Enqueue(finish);
            LogFinishNotRecorded(finish.Stage, finish.DocumentId, ex.Message);
        }
    }

    private async Task FinishPendingAsync()
    {
        for (var n = Pending.Count; n > 0 && Pending.TryDequeue(out var finish); n--)
            await FinishAsync(finish);
    }

    // Cancellation, an unreachable database and a broken setup (Tesseract or mutool missing) are not the document's
    // fault: the job fails and is retried, and no attempt counts against the document.
    internal static bool IsDocumentProblem(Exception ex) =>
        ex is not OperationCanceledException && ex is not NpgsqlException { IsTransient: true } && !IsOutOfMemory(ex)
        && ex is not (Ocr.OcrSetupException or ImageProcessing.PdfRendererSetupException)
        && !IsDiskFull(ex);

    /// <summary>Memory ran out, however deep the exception that says so is wrapped.</summary>
    internal static bool IsOutOfMemory(Exception ex) => Caused(ex, e => e is OutOfMemoryException);

    /// <summary>ENOSPC/EDQUOT: the volume, not the document, is the problem; the job fails and is retried instead of
    /// counting an attempt against the document.</summary>
    internal static bool IsDiskFull(Exception ex) => Caused(ex, e => e is IOException { HResult: 28 or 122 });

    /// <summary>The exception or one it wraps (its inner exceptions, outermost first) is <paramref name="what"/>.</summary>
    private static bool Caused(Exception ex, Func<Exception, bool> what) => what(ex) || (ex.InnerException is { } inner && Caused(inner, what));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage {Stage} could not process {DocumentId}: {Error}")]
    private partial void LogStageFailure(string stage, string documentId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage {Stage}: the worker stopped on {DocumentId} before; working on it alone")]
    private partial void LogAlone(string stage, string documentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage {Stage}: could not record the end of its work on {DocumentId} (tried again at the next batch): {Error}")]
    private partial void LogFinishNotRecorded(string stage, string documentId, string error);
}

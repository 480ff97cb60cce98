using System.Diagnostics;
using Dsdc.ImageProcessing;
using Dsdc.Ocr;
using Dsdc.Shared;
using Dsdc.TextProcessing;
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
    IImagePreprocessor images,
    ITextExtractor extractor,
    DsdcPaths paths,
    IOptions<PipelineOptions> options,
    ILogger<PipelineStages> logger)
{
    public async Task<StageResult> ProcessImagesAsync(int limit, CancellationToken ct)
    {
        await using var claim = await store.ClaimMissingImagesAsync(images.Processor, images.Version, options.Value.MaxAttempts, limit, ct);
        return await RunAsync(StageStore.ImageStage, images.Version, claim.Items, async (doc, token) =>
        {
            var name = $"{doc.Id}.{Slug(images.Processor)}-{Slug(images.Version)}.png";
            var relative = Path.Combine("processed", doc.Id[..1], doc.Id[1..2], name);
            var result = await Task.Run(() => images.Process(Path.Combine(paths.DataDir, doc.FilePath), doc.Format, Path.Combine(paths.DataDir, relative)), token);
            await store.AddProcessedImageAsync(doc.Id, relative, result.Width, result.Height, images.Processor, images.Version, token);
        }, ct);
    }

    public async Task<StageResult> ExtractTextAsync(int limit, CancellationToken ct)
    {
        await using var claim = await store.ClaimMissingTextAsync(extractor.Processor, extractor.ProcessorVersion, options.Value.MaxAttempts, limit, ct);
        return await RunAsync(StageStore.OcrStage, extractor.ProcessorVersion, claim.Items, async (doc, token) =>
        {
            var watch = Stopwatch.StartNew();
            var text = await extractor.ExtractAsync(Path.Combine(paths.DataDir, doc.FilePath), doc.Format, token);
            var elapsed = watch.Elapsed;
            await store.AddRawTextAsync(doc.Id, text.Text, text.Method, text.Processor, text.ProcessorVersion, text.MeanConfidence,
                (int)elapsed.TotalMilliseconds, token);
            PipelineMetrics.OcrDocuments.WithLabels(text.Method).Inc();
            PipelineMetrics.OcrPages.WithLabels(text.Method).Inc(doc.PageCount);
            PipelineMetrics.OcrDuration.WithLabels(text.Method).Observe(elapsed.TotalSeconds);
        }, ct);
    }

    public async Task<StageResult> CleanTextAsync(int limit, CancellationToken ct)
    {
        await using var claim = await store.ClaimMissingCleanTextAsync(TextCleaner.Processor, TextCleaner.Version, limit, ct);
        var todo = claim.Items;
        foreach (var raw in todo)
        {
            await store.AddProcessedTextAsync(raw.Id, raw.DocumentId, TextCleaner.Clean(raw.Text), TextCleaner.Processor, TextCleaner.Version, ct);
            PipelineMetrics.StageDocuments.WithLabels(StageStore.TextStage, "processed").Inc();
        }
        return new StageResult(StageStore.TextStage, todo.Count, 0);
    }

    public Task<PipelineBacklog> BacklogAsync(CancellationToken ct) =>
        store.BacklogAsync(images.Processor, images.Version, extractor.Processor, extractor.ProcessorVersion, TextCleaner.Processor, TextCleaner.Version, ct);

    private async Task<StageResult> RunAsync(string stage, string version, IReadOnlyList<StoredDocument> todo,
        Func<StoredDocument, CancellationToken, Task> work, CancellationToken ct)
    {
        var failed = 0;
        await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = options.Value.Parallelism, CancellationToken = ct },
            async (doc, token) =>
            {
                var watch = Stopwatch.StartNew();
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
            });
        return new StageResult(stage, todo.Count - failed, failed);
    }

    // Cancellation and an unreachable database are not the document's fault: the job fails and is retried.
    private static bool IsDocumentProblem(Exception ex) =>
        ex is not OperationCanceledException && ex is not NpgsqlException { IsTransient: true } && ex is not OutOfMemoryException
        && !IsDiskFull(ex);

    /// <summary>ENOSPC/EDQUOT: the volume, not the document, is the problem; the job fails and is retried instead of
    /// counting an attempt against the document.</summary>
    internal static bool IsDiskFull(Exception ex) => ex is IOException { HResult: 28 or 122 } || (ex.InnerException is { } inner && IsDiskFull(inner));

    private static string Slug(string s) => string.Concat(s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '-'));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stage {Stage} could not process {DocumentId}: {Error}")]
    private partial void LogStageFailure(string stage, string documentId, string error);
}

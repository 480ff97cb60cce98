using Dsdc.Ingestion;
using Dsdc.Shared.Jobs;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dsdc.Pipeline;

/// <summary>
/// The pipeline as Hangfire jobs (the original's ingest_and_process_data DAG): the recurring run ingests a batch, then
/// image preprocessing runs beside OCR, OCR continues with text cleaning, and text cleaning with embeddings.
/// Every stage takes what is missing, so a failed or skipped job is simply caught up by the next run.
/// </summary>
public sealed class PipelineJobs(
    InboxIngestor ingestor, PipelineStages stages, IBackgroundJobClient jobs, IOptions<PipelineOptions> options, IServiceProvider services)
{
    public const string RecurringId = "pipeline";
    private const int LockSeconds = 30 * 60;

    [Queue(JobQueues.Default)]
    [DisableConcurrentExecution(LockSeconds)]
    [AutomaticRetry(Attempts = 3)]
    public async Task<string> RunAsync(CancellationToken ct)
    {
        var o = options.Value;
        var summary = await ingestor.IngestAsync(o.BatchSize, null, ct);
        var backlog = await stages.BacklogAsync(ct);
        var embedding = services.GetService<IEmbeddingStage>();
        var toEmbed = embedding is null ? 0 : await embedding.CountMissingAsync(ct);
        // Stage jobs claim their documents one by one, so several of them (on any workers) share a large backlog.
        var imageJobs = JobsFor(backlog.Images);
        for (var i = 0; i < imageJobs; i++)
            jobs.Enqueue<PipelineJobs>(j => j.ImagesAsync(CancellationToken.None));
        var ocrJobs = backlog.Ocr + backlog.Text + toEmbed > 0 ? Math.Max(1, JobsFor(backlog.Ocr)) : 0;
        for (var i = 0; i < ocrJobs; i++)
        {
            var ocr = jobs.Enqueue<PipelineJobs>(j => j.OcrAsync(CancellationToken.None));
            var text = jobs.ContinueJobWith<PipelineJobs>(ocr, j => j.CleanTextAsync(CancellationToken.None));
            if (embedding is not null)
                jobs.ContinueJobWith<PipelineJobs>(text, j => j.EmbeddingsAsync(CancellationToken.None));
        }
        return $"ingestion: {summary}; waiting: {backlog.Images} image(s), {backlog.Ocr} OCR, {backlog.Text} text, {toEmbed} embedding(s); " +
            $"enqueued {imageJobs} image and {ocrJobs} OCR job(s)";
    }

    // Image, OCR and text jobs run concurrently on different documents (per-document claims in StageStore), so they
    // need no job-wide lock. Embedding keeps one: it batches across documents inside the Embedding module.
    [Queue(JobQueues.Default)]
    [AutomaticRetry(Attempts = 5)]
    public async Task<string> ImagesAsync(CancellationToken ct) => Describe(await stages.ProcessImagesAsync(options.Value.BatchSize, ct));

    [Queue(JobQueues.Ocr)]
    [AutomaticRetry(Attempts = 5)]
    public async Task<string> OcrAsync(CancellationToken ct) => Describe(await stages.ExtractTextAsync(options.Value.BatchSize, ct));

    [Queue(JobQueues.Default)]
    [AutomaticRetry(Attempts = 5)]
    public async Task<string> CleanTextAsync(CancellationToken ct) => Describe(await stages.CleanTextAsync(options.Value.BatchSize, ct));

    [Queue(JobQueues.Embedding)]
    [DisableConcurrentExecution(LockSeconds)]
    [AutomaticRetry(Attempts = 5)]
    public async Task<string> EmbeddingsAsync(CancellationToken ct)
    {
        var embedding = services.GetService<IEmbeddingStage>();
        return embedding is null
            ? "no embedding module"
            : $"{await PipelineMetrics.MeasureEmbeddingAsync(() => embedding.EmbedMissingAsync(options.Value.BatchSize, ct))} embedded";
    }

    /// <summary>One job per batch of the backlog, at most <see cref="PipelineOptions.MaxJobsPerStage"/>.</summary>
    private int JobsFor(long backlog) =>
        (int)Math.Min(options.Value.MaxJobsPerStage, (backlog + options.Value.BatchSize - 1) / options.Value.BatchSize);

    private static string Describe(StageResult r) => $"{r.Stage}: {r.Processed} processed, {r.Failed} failed";
}

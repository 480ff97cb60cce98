using Dsdc.Ingestion;
using Dsdc.Shared.Jobs;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Pipeline;

/// <summary>
/// The pipeline as Hangfire jobs (the original's ingest_and_process_data DAG): the recurring run ingests a batch, then
/// image preprocessing runs beside OCR, OCR continues with text cleaning, and text cleaning with embeddings.
/// Every stage takes what is missing, so a failed or skipped job is simply caught up by the next run.
/// </summary>
public sealed class PipelineJobs(
    InboxIngestor ingestor, PipelineStages stages, IBackgroundJobClient jobs, IOptions<PipelineOptions> options, NpgsqlDataSource dataSource,
    IEmbeddingStage? embedding = null)
{
    public const string RecurringId = "pipeline";
    private const int LockSeconds = 30 * 60;

    /// <summary>Key of the session-level advisory lock that keeps pipeline runs one at a time ("DSDCPIPE").</summary>
    internal const long RunLockKey = 0x4453_4443_5049_5045;

    // One run at a time under a PostgreSQL advisory lock (OneAtATime), not DisableConcurrentExecution, whose stale
    // hangfire.lock row once stalled the pipeline after a database outage. A run someone asked for (the pipelines page,
    // an upload) waits for the one running, so the entries it was asked for are taken.
    [Queue(JobQueues.Default)]
    [AutomaticRetry(Attempts = 3)]
    public Task<string> RunAsync(CancellationToken ct) => OneAtATimeAsync(RunLockKey, "pipeline run", RunLockedAsync, ct);

    /// <summary>
    /// The recurring run (<see cref="RecurringId"/>, every Pipeline:Cron): it leaves at once when another run is going.
    /// Hangfire starts it whatever the last one is doing, and while one batch of large documents took longer than the
    /// interval, the runs waiting for the lock held the few job threads the OCR and image jobs need (two per compose
    /// worker), then failed after 30 minutes. The running one takes a batch and enqueues the stages; the next run that
    /// finds the lock free takes what is left.
    /// </summary>
    [Queue(JobQueues.Default)]
    [AutomaticRetry(Attempts = 3)]
    public Task<string> RunScheduledAsync(CancellationToken ct) => OneAtATimeAsync(RunLockKey, "pipeline run", RunLockedAsync, ct, skipWhenBusy: true);

    /// <summary>Key of the advisory lock that keeps embedding jobs one at a time ("DSDCEMBD").</summary>
    internal const long EmbeddingLockKey = 0x4453_4443_454D_4244;

    /// <summary>
    /// Runs <paramref name="body"/> under the advisory lock <paramref name="key"/> (<see cref="OneAtATime"/>), waiting up
    /// to <see cref="LockSeconds"/> for whoever holds it, as DisableConcurrentExecution did; with <paramref name="skipWhenBusy"/>,
    /// returns at once instead of parking a worker while another job holds it.
    /// </summary>
    private async Task<string> OneAtATimeAsync(long key, string what, Func<CancellationToken, Task<string>> body, CancellationToken ct,
        bool skipWhenBusy = false)
    {
        var (ran, result) = await OneAtATime.TryRunAsync(dataSource, key, skipWhenBusy ? TimeSpan.Zero : TimeSpan.FromSeconds(LockSeconds), body, ct);
        if (ran) return result;
        return skipWhenBusy ? $"skipped: another {what} is running"
            : throw new TimeoutException($"another {what} held its lock for more than {LockSeconds} s");
    }

    private async Task<string> RunLockedAsync(CancellationToken ct)
    {
        var o = options.Value;
        var summary = await ingestor.IngestAsync(o.BatchSize, null, ct);
        var backlog = await stages.BacklogAsync(ct);
        var toEmbed = embedding is null ? 0 : await embedding.CountMissingAsync(ct) + await embedding.CountMissingFeaturesAsync(ct);
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

    // One at a time with an advisory lock too (it was DisableConcurrentExecution: an outage that cut a job off left its
    // hangfire.lock row behind and delayed later embedding jobs up to Hangfire.PostgreSql's 10-minute expiry). A job that
    // finds another running leaves at once rather than holding one of the few workers the OCR and image jobs need: the
    // running one takes what is pending, batch after batch (up to EmbeddingJobBudget), so the OCR chains that skipped
    // do not leave their documents to the next pipeline runs one batch at a time.
    [Queue(JobQueues.Embedding)]
    [AutomaticRetry(Attempts = 5)]
    public Task<string> EmbeddingsAsync(CancellationToken ct) =>
        OneAtATimeAsync(EmbeddingLockKey, "embedding job", EmbedLockedAsync, ct, skipWhenBusy: true);

    /// <summary>How long an embedding job goes on taking batches while documents keep arriving from the OCR chains.</summary>
    internal static readonly TimeSpan EmbeddingJobBudget = TimeSpan.FromMinutes(15);

    private async Task<string> EmbedLockedAsync(CancellationToken ct)
    {
        if (embedding is null) return "no embedding module";
        // Each document tried once per job: one that fails is left to the next job, not retried until given up.
        HashSet<string> failedVectors = new(StringComparer.Ordinal), failedFeatures = new(StringComparer.Ordinal);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int embedded = 0, features = 0, batches = 0;
        while (true)
        {
            var e = await PipelineMetrics.MeasureEmbeddingAsync(() => embedding.EmbedMissingAsync(options.Value.BatchSize, failedVectors, ct));
            var f = await embedding.AddPageFeaturesAsync(options.Value.BatchSize, failedFeatures, ct);
            (embedded, features, batches) = (embedded + e, features + f, batches + 1);
            if (e + f == 0 || watch.Elapsed >= EmbeddingJobBudget) break;
        }
        return $"{embedded} embedded, page features of {features} ({batches} batch(es))";
    }

    /// <summary>One job per batch of the backlog, at most <see cref="PipelineOptions.MaxJobsPerStage"/>.</summary>
    private int JobsFor(long backlog) =>
        (int)Math.Min(options.Value.MaxJobsPerStage, (backlog + options.Value.BatchSize - 1) / options.Value.BatchSize);

    private static string Describe(StageResult r) => $"{r.Stage}: {r.Processed} processed, {r.Failed} failed";
}

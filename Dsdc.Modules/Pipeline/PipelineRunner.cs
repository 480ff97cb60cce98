using Dsdc.Ingestion;
using Dsdc.Shared.Jobs;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Pipeline;

public sealed record PipelineProgress(int Ingested, int Rejected, int Images, int Texts, int Cleaned, int Embedded, int Failed)
{
    /// <summary>The embeddings were left to the embedding jobs: another process held their lock for as long as the command
    /// waits (<see cref="PipelineRunner.EmbeddingLockWait"/>).</summary>
    public bool EmbeddingsLeft { get; init; }
}

/// <summary>
/// Runs the whole pipeline synchronously until the inbox is empty and every stage has caught up (the <c>ingest</c>
/// command). The stages run at the same time, each taking what its upstream stage has finished, so OCR never waits
/// for embeddings and the cores stay busy.
/// </summary>
public sealed class PipelineRunner(InboxIngestor ingestor, PipelineStages stages, IOptions<PipelineOptions> options,
    IOptions<IngestionOptions> ingestion, NpgsqlDataSource dataSource, IEmbeddingStage? embedding = null)
{
    /// <summary>How long the command waits for the embedding jobs' lock (another process's job, or another command) before
    /// it leaves the embeddings to the jobs and says so.</summary>
    public static readonly TimeSpan EmbeddingLockWait = TimeSpan.FromMinutes(30);

    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(250);

    /// <summary>How long the command waits while only deferred inbox entries are left: past the settle window and the
    /// wait of a file that looks incomplete (<see cref="IngestionOptions.IncompleteSeconds"/>), at least 20 s.</summary>
    internal static TimeSpan DeferredPatience(IngestionOptions o) =>
        TimeSpan.FromSeconds(Math.Max(20, (o.SettleSeconds > 0 ? o.IncompleteSeconds : 0) + o.SettleSeconds + 5));

    public async Task<(IngestionSummary Ingestion, PipelineProgress Totals)> RunUntilEmptyAsync(IProgress<PipelineProgress>? progress, CancellationToken ct)
    {
        var summary = new IngestionSummary();
        int ingested = 0, rejected = 0, images = 0, texts = 0, cleaned = 0, embedded = 0, failed = 0;
        var batch = Math.Max(4, Math.Min(options.Value.BatchSize, options.Value.Parallelism * 4));
        void Report() => progress?.Report(new PipelineProgress(ingested, rejected, images, texts, cleaned, embedded, failed));

        // Only entries still being written (or held by another run) left: they are waited for as long as the inbox itself
        // waits before judging a file (a file that looks incomplete is rejected once nothing has written it for
        // Ingestion:IncompleteSeconds), so that the command ends with every such file accepted or rejected, not left over.
        var patience = DeferredPatience(ingestion.Value);
        var ingest = Task.Run(async () =>
        {
            var idleSince = (DateTime?)null;
            while (true)
            {
                var s = await ingestor.IngestAsync(options.Value.BatchSize, null, ct);
                summary.Merge(s);
                Interlocked.Add(ref ingested, s.Accepted);
                Interlocked.Add(ref rejected, s.Rejected);
                Report();
                if (s.Accepted + s.Rejected > 0) { idleSince = null; continue; }
                idleSince ??= DateTime.UtcNow;
                if (s.Deferred == 0 || DateTime.UtcNow - idleSince > patience) return;
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            }
        }, ct);

        async Task Loop(Func<Task<StageResult>> step, Func<bool> upstreamDone, Action<StageResult> count, CancellationToken token)
        {
            while (true)
            {
                var done = upstreamDone(); // read before the step, so nothing finished upstream is missed
                var r = await step();
                count(r);
                Interlocked.Add(ref failed, r.Failed);
                Report();
                if (r.Touched > 0) continue;
                if (done) return;
                await Task.Delay(Idle, token);
            }
        }

        var imageTask = Loop(() => stages.ProcessImagesAsync(batch, ct), () => ingest.IsCompleted, r => Interlocked.Add(ref images, r.Processed), ct);
        var ocrTask = Loop(() => stages.ExtractTextAsync(batch, ct), () => ingest.IsCompleted, r => Interlocked.Add(ref texts, r.Processed), ct);
        var textTask = Loop(() => stages.CleanTextAsync(options.Value.BatchSize, ct), () => ocrTask.IsCompleted, r => Interlocked.Add(ref cleaned, r.Processed), ct);
        // A document whose vector or features fail is tried once per run, not at every turn of the loop until given up.
        HashSet<string> failedVectors = new(StringComparer.Ordinal), failedFeatures = new(StringComparer.Ordinal);
        // Embedding claims no document: the embedding jobs are kept one at a time by an advisory lock, and the command
        // holds the same lock while it embeds, so a worker's job and this command never encode the same batch twice
        // (nor count a document's failure twice). It waits for a worker's job to end, which takes what is pending.
        var embeddingTask = embedding is null
            ? Task.FromResult((Ran: true, Result: 0))
            : Task.Run(() => OneAtATime.TryRunAsync(dataSource, PipelineJobs.EmbeddingLockKey, EmbeddingLockWait, async token =>
            {
                var embedTask = Loop(async () => new StageResult("embedding",
                        await PipelineMetrics.MeasureEmbeddingAsync(() => embedding.EmbedMissingAsync(batch, failedVectors, token)), 0),
                    () => textTask.IsCompleted && imageTask.IsCompleted, r => Interlocked.Add(ref embedded, r.Processed), token);
                var featuresTask = Loop(async () => new StageResult("features", await embedding.AddPageFeaturesAsync(batch, failedFeatures, token), 0),
                    () => embedTask.IsCompleted, _ => { }, token);
                await Task.WhenAll(embedTask, featuresTask);
                return 0;
            }, ct), ct);

        await Task.WhenAll(ingest, imageTask, ocrTask, textTask, embeddingTask);
        var totals = new PipelineProgress(ingested, rejected, images, texts, cleaned, embedded, failed) { EmbeddingsLeft = !embeddingTask.Result.Ran };
        progress?.Report(totals);
        return (summary, totals);
    }
}

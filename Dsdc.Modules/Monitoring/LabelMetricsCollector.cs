using Dsdc.Inference.Review;
using Dsdc.Ingestion;
using Dsdc.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Monitoring;

/// <summary>
/// What a person labelling documents watches: stored documents by class and source of their current label, documents with
/// none, and the review queue's size, asked of the Ingestion module's <see cref="IngestionQueries"/> and the Inference
/// module's <see cref="ReviewQueue"/> (which define the current label and the queue once). Every class shows up, at zero
/// when it has no labelled document. Skipped where those modules are not registered or their tables do not exist yet.
/// </summary>
internal sealed class LabelMetricsCollector(IServiceProvider services, IOptions<MonitoringOptions> options, TimeProvider time) : IScrapeCollector
{
    /// <summary>How long the reads may take: a database too large or too busy to count in time keeps the last values until
    /// the cache expires, instead of making every scrape of the process time out.</summary>
    internal static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private static readonly string[] Sources = ["human", "dataset"];
    private readonly ScrapeCache _cache = new(() => TimeSpan.FromSeconds(options.Value.LabelsCacheSeconds), time);

    public async Task CollectAsync(CancellationToken ct)
    {
        if (_cache.IsFresh) return;
        if (services.GetService<IngestionQueries>() is not { } ingestion)
        {
            _cache.Mark();
            return;
        }
        IReadOnlyList<ClassLabelCount> counts;
        long unlabelled, deleting;
        long? queue = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ReadTimeout);
        try
        {
            counts = await ingestion.LabelCountsAsync(timeout.Token);
            unlabelled = await ingestion.UnlabelledCountAsync(timeout.Token);
            deleting = await ingestion.UnfinishedDeletionsCountAsync(timeout.Token);
            if (services.GetService<ReviewQueue>() is { } review) queue = await review.CountAsync(timeout.Token);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            _cache.Mark();
            return;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            _cache.Mark();
            throw new TimeoutException($"the label counts took more than {ReadTimeout.TotalSeconds:0} s; the last values stay until the next reading");
        }
        var byClass = counts.ToDictionary(c => (int)c.Label);
        for (var label = 0; label < DocumentClasses.Count; label++)
        {
            var c = byClass.GetValueOrDefault(label);
            foreach (var source in Sources)
                DsdcMetrics.LabelledDocuments.WithLabels(DocumentClasses.NameOf(label), source).Set(source == "human" ? c?.Human ?? 0 : c?.Dataset ?? 0);
        }
        DsdcMetrics.UnlabelledDocuments.Set(unlabelled);
        DsdcMetrics.UnfinishedDeletions.Set(deleting);
        if (queue is { } waiting) DsdcMetrics.ReviewQueueDocuments.Set(waiting);
        _cache.Mark();
    }
}

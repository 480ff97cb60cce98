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
        long unlabelled;
        long? queue = null;
        try
        {
            counts = await ingestion.LabelCountsAsync(ct);
            unlabelled = await ingestion.UnlabelledCountAsync(ct);
            if (services.GetService<ReviewQueue>() is { } review) queue = await review.CountAsync(ct);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            _cache.Mark();
            return;
        }
        var byClass = counts.ToDictionary(c => (int)c.Label);
        for (var label = 0; label < DocumentClasses.Count; label++)
        {
            var c = byClass.GetValueOrDefault(label);
            foreach (var source in Sources)
                DsdcMetrics.LabelledDocuments.WithLabels(DocumentClasses.NameOf(label), source).Set(source == "human" ? c?.Human ?? 0 : c?.Dataset ?? 0);
        }
        DsdcMetrics.UnlabelledDocuments.Set(unlabelled);
        if (queue is { } waiting) DsdcMetrics.ReviewQueueDocuments.Set(waiting);
        _cache.Mark();
    }
}

using Dsdc.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Monitoring;

/// <summary>
/// The champion's test metrics and age, and training runs by status, asked of the Training module's public
/// <see cref="ModelRegistry"/> (which defines the champion once); skipped where the Training module is not registered
/// or its tables do not exist yet (a database migrated by an older build).
/// </summary>
internal sealed class ModelMetricsCollector(IServiceProvider services, IOptions<MonitoringOptions> options, TimeProvider time) : IScrapeCollector
{
    private static readonly string[] Statuses = ["running", "succeeded", "failed"];
    private readonly ScrapeCache _cache = new(() => TimeSpan.FromSeconds(options.Value.ModelCacheSeconds), time);

    public async Task CollectAsync(CancellationToken ct)
    {
        if (_cache.IsFresh) return;
        if (services.GetService<ModelRegistry>() is not { } registry)
        {
            _cache.Mark();
            return;
        }

        IReadOnlyDictionary<string, long> counts;
        long? championId;
        try
        {
            counts = await registry.RunCountsAsync(ct);
            championId = await registry.ChampionRunIdAsync(ct);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            _cache.Mark();
            return;
        }
        foreach (var status in Statuses.Union(counts.Keys))
            DsdcMetrics.TrainingRuns.WithLabels(status).Set(counts.GetValueOrDefault(status));

        if (championId is { } runId && await registry.RunAsync(runId, ct) is { } champion)
        {
            DsdcMetrics.ChampionRunId.Set(champion.Id);
            if (champion.TestAccuracy is { } accuracy) DsdcMetrics.ChampionAccuracy.Set(accuracy);
            if (champion.TestMacroF1 is { } f1) DsdcMetrics.ChampionMacroF1.Set(f1);
            if (champion.AccuracySd is { } sd) DsdcMetrics.ChampionAccuracySd.Set(sd);
            else DsdcMetrics.ChampionAccuracySd.Unpublish();
            if (champion.FinishedAt is { } finished)
                DsdcMetrics.ChampionAge.Set(Math.Max(0, (time.GetUtcNow() - DateTime.SpecifyKind(finished, DateTimeKind.Utc)).TotalSeconds));
        }
        _cache.Mark();
    }
}

using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Monitoring;

/// <summary>
/// The champion's test metrics and age, and training runs by status, read from the Training module's tables. Reading
/// another module's schema is the one exception to the module rule, for monitoring only: read-only, a few columns, and
/// skipped while the tables do not exist (a database migrated by an older build).
/// </summary>
internal sealed class ModelMetricsCollector(NpgsqlDataSource dataSource, IOptions<MonitoringOptions> options, TimeProvider time) : IScrapeCollector
{
    private static readonly string[] Statuses = ["running", "succeeded", "failed"];
    private readonly ScrapeCache _cache = new(() => TimeSpan.FromSeconds(options.Value.ModelCacheSeconds), time);

    private sealed record Champion(long RunId, double? TestAccuracy, double? TestMacroF1, DateTime? FinishedAt);

    public async Task CollectAsync(CancellationToken ct)
    {
        if (_cache.IsFresh) return;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var present = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT to_regclass('training.runs') IS NOT NULL AND to_regclass('training.promotions') IS NOT NULL", cancellationToken: ct));
        if (!present)
        {
            _cache.Mark();
            return;
        }

        var counts = (await conn.QueryAsync<(string Status, long Count)>(new CommandDefinition(
            "SELECT status, count(*) FROM training.runs GROUP BY status", cancellationToken: ct))).ToDictionary(r => r.Status, r => r.Count);
        foreach (var status in Statuses.Union(counts.Keys))
            DsdcMetrics.TrainingRuns.WithLabels(status).Set(counts.GetValueOrDefault(status));

        // The champion is the run of the newest promotion (a rollback row names the run it returns to).
        const string championSql = """
            SELECT r.id AS run_id, r.test_accuracy, r.test_macro_f1, r.finished_at
            FROM training.promotions p JOIN training.runs r ON r.id = p.run_id
            ORDER BY p.promoted_at DESC, p.id DESC
            LIMIT 1
            """;
        if (await conn.QuerySingleOrDefaultAsync<Champion>(new CommandDefinition(championSql, cancellationToken: ct)) is { } champion)
        {
            DsdcMetrics.ChampionRunId.Set(champion.RunId);
            if (champion.TestAccuracy is { } accuracy) DsdcMetrics.ChampionAccuracy.Set(accuracy);
            if (champion.TestMacroF1 is { } f1) DsdcMetrics.ChampionMacroF1.Set(f1);
            if (champion.FinishedAt is { } finished)
                DsdcMetrics.ChampionAge.Set(Math.Max(0, (time.GetUtcNow() - DateTime.SpecifyKind(finished, DateTimeKind.Utc)).TotalSeconds));
        }
        _cache.Mark();
    }
}

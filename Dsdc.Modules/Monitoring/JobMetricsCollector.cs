using Dsdc.Shared.Jobs;
using Hangfire;
using Microsoft.Extensions.Options;

namespace Dsdc.Monitoring;

/// <summary>Hangfire's queue lengths, job states and live servers, from its monitoring API (shared by all processes).</summary>
internal sealed class JobMetricsCollector(JobStorage storage, IOptions<MonitoringOptions> options, TimeProvider time) : IScrapeCollector
{
    private readonly ScrapeCache _cache = new(() => TimeSpan.FromSeconds(options.Value.JobsCacheSeconds), time);

    public async Task CollectAsync(CancellationToken ct)
    {
        if (_cache.IsFresh) return;
        // The monitoring API is synchronous (a few small queries).
        var (stats, queues) = await Task.Run(() =>
        {
            var api = storage.GetMonitoringApi();
            return (api.GetStatistics(), api.Queues());
        }, ct);

        var lengths = JobQueues.All.ToDictionary(q => q, _ => 0L);
        foreach (var q in queues) lengths[q.Name] = q.Length;
        foreach (var (queue, length) in lengths) DsdcMetrics.JobsEnqueued.WithLabels(queue).Set(length);

        DsdcMetrics.Jobs.WithLabels("enqueued").Set(stats.Enqueued);
        DsdcMetrics.Jobs.WithLabels("scheduled").Set(stats.Scheduled);
        DsdcMetrics.Jobs.WithLabels("processing").Set(stats.Processing);
        DsdcMetrics.Jobs.WithLabels("failed").Set(stats.Failed);
        DsdcMetrics.Jobs.WithLabels("succeeded").Set(stats.Succeeded);
        DsdcMetrics.Jobs.WithLabels("deleted").Set(stats.Deleted);
        DsdcMetrics.Jobs.WithLabels("retries").Set(stats.Retries ?? 0);
        DsdcMetrics.Jobs.WithLabels("recurring").Set(stats.Recurring);
        DsdcMetrics.JobServers.Set(stats.Servers);
        _cache.Mark();
    }
}

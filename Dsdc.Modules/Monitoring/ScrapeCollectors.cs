using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dsdc.Monitoring;

/// <summary>A source of gauges read when Prometheus scrapes (the database, Hangfire's storage).</summary>
internal interface IScrapeCollector
{
    Task CollectAsync(CancellationToken ct);
}

/// <summary>
/// Runs this app's collectors right before <c>/metrics</c> is written. Per request rather than a registry callback:
/// the metric families are process-wide, so several hosts in one process (tests) would otherwise overwrite each other.
/// One scrape at a time keeps "collect, then write" atomic.
/// </summary>
internal sealed class ScrapeCollectors(RequestDelegate next, IEnumerable<IScrapeCollector> collectors, ILogger<ScrapeCollectors> logger)
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public async Task InvokeAsync(HttpContext context)
    {
        await Gate.WaitAsync(context.RequestAborted);
        try
        {
            foreach (var collector in collectors)
            {
                try
                {
                    await collector.CollectAsync(context.RequestAborted);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A metric source that is down must not hide the others: keep its last values, say why.
                    logger.LogWarning("Metrics from {Collector} unavailable: {Reason}", collector.GetType().Name, ex.Message);
                }
            }
            await next(context);
        }
        finally
        {
            Gate.Release();
        }
    }
}

/// <summary>Reuses a collector's last reading for a while, so frequent scrapes (several Prometheus) stay cheap.</summary>
internal sealed class ScrapeCache(Func<TimeSpan> maxAge, TimeProvider time)
{
    private DateTimeOffset _at = DateTimeOffset.MinValue;

    public bool IsFresh => time.GetUtcNow() - _at < maxAge();

    public void Mark() => _at = time.GetUtcNow();
}

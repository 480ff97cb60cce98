using Dsdc.Ingestion;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dsdc.Pipeline;

/// <summary>
/// Keeps a fresh view of the backlog per stage: as the <c>dsdc_pipeline_backlog</c> gauge (refreshed when Prometheus
/// scrapes this app, as its other scrape-time gauges are: <see cref="Monitoring.ScrapeCollectors"/>) and as counters on the
/// Hangfire dashboard's home page, so a running pipeline's progress can be watched.
/// </summary>
internal sealed class PipelineObservability(PipelineStages stages, InboxIngestor ingestor, ILogger<PipelineObservability> logger,
    IEmbeddingStage? embedding = null) : IHostedService, Monitoring.IScrapeCollector
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);
    private static PipelineObservability? _current;
    private (DateTime At, Dictionary<string, long> Values) _snapshot = (DateTime.MinValue, []);
    private readonly SemaphoreSlim _refresh = new(1, 1);

    private static readonly (string Stage, string Title)[] Stages =
    [
        ("inbox", "Inbox"), ("image", "Awaiting image"), ("ocr", "Awaiting OCR"), ("text", "Awaiting text cleaning"),
        ("embedding", "Awaiting embedding"), ("failed", "Given up (this version)"),
    ];

    static PipelineObservability()
    {
        // Dashboard metrics are process-wide in Hangfire; they read whichever app instance started last.
        GlobalConfiguration.Configuration.UseDashboardMetrics(Stages.Select(s => new DashboardMetric(
            "dsdc:backlog:" + s.Stage, s.Title,
            _ => _current?.Read(s.Stage) is { } n ? new Metric(n) { Style = n > 0 ? MetricStyle.Info : MetricStyle.Default } : new Metric("?"))).ToArray());
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _current = this;
        return Task.CompletedTask;
    }

    /// <summary>Sets the gauge from this app's backlog right before its <c>/metrics</c> is written. Per app rather than a
    /// registry callback, so that several hosts in one process (tests) each publish their own.</summary>
    public async Task CollectAsync(CancellationToken ct)
    {
        foreach (var (stage, value) in await RefreshAsync(ct))
            PipelineMetrics.Backlog.WithLabels(stage).Set(value);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Interlocked.CompareExchange(ref _current, null, this);
        return Task.CompletedTask;
    }

    private long? Read(string stage)
    {
        var values = RefreshAsync(CancellationToken.None).GetAwaiter().GetResult();
        return values.TryGetValue(stage, out var n) ? n : null;
    }

    private async Task<Dictionary<string, long>> RefreshAsync(CancellationToken ct)
    {
        if (DateTime.UtcNow - _snapshot.At < MaxAge) return _snapshot.Values;
        await _refresh.WaitAsync(ct);
        try
        {
            if (DateTime.UtcNow - _snapshot.At < MaxAge) return _snapshot.Values;
            var backlog = await stages.BacklogAsync(ct);
            _snapshot = (DateTime.UtcNow, new Dictionary<string, long>
            {
                ["inbox"] = ingestor.CountWaiting(),
                ["image"] = backlog.Images, ["ocr"] = backlog.Ocr, ["text"] = backlog.Text,
                ["embedding"] = embedding is null ? 0 : await embedding.CountMissingAsync(ct),
                ["failed"] = backlog.Failures,
            });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The database may be down: keep the last values and say so once per refresh attempt.
            logger.LogWarning("Pipeline backlog unavailable: {Reason}", ex.Message);
            _snapshot = (DateTime.UtcNow, _snapshot.Values);
        }
        finally
        {
            _refresh.Release();
        }
        return _snapshot.Values;
    }
}

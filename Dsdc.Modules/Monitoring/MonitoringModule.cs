using System.Text.Json;
using Dsdc.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace Dsdc.Monitoring;

public static class MonitoringModule
{
    private const string ReadyTag = "ready";
    public const string MetricsPath = "/metrics";

    public static IHostApplicationBuilder AddMonitoringModule(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseReadyCheck>("database", tags: [ReadyTag]);
        builder.AddValidatedOptions<MonitoringOptions>(MonitoringOptions.Section).ValidateDataAnnotations();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IScrapeCollector, JobMetricsCollector>();
        builder.Services.AddSingleton<IScrapeCollector, ModelMetricsCollector>();
        builder.Services.AddSingleton<IScrapeCollector, LabelMetricsCollector>();
        ConfigureMeterAdapter();
        return builder;
    }

    /// <summary>Buckets of the database's operation latency (Npgsql's <c>db.client.operation.duration</c>, in seconds):
    /// 0.25 ms to 8 s. The meter adapter's default buckets start at 10 ms, where nearly every query ends, so the p95
    /// panel read 9.5 ms whatever the real latency was.</summary>
    internal static readonly double[] DatabaseLatencyBuckets = Histogram.ExponentialBuckets(0.00025, 2, 16);

    private static int _meterAdapterConfigured;

    /// <summary>The .NET meters' histograms (Npgsql's) published with buckets that fit them; process-wide, once.</summary>
    private static void ConfigureMeterAdapter()
    {
        if (Interlocked.Exchange(ref _meterAdapterConfigured, 1) == 1) return;
        Metrics.ConfigureMeterAdapter(options =>
        {
            var fallback = options.ResolveHistogramBuckets;
            options.ResolveHistogramBuckets = instrument =>
                instrument.Name.StartsWith("db.client.", StringComparison.Ordinal) && instrument.Unit == "s"
                    ? DatabaseLatencyBuckets
                    : fallback(instrument);
        });
    }

    /// <summary>
    /// Request metrics by route template (label <c>endpoint</c>, e.g. <c>/api/v1/documents/{id}</c>), method and status
    /// class; call after routing, or every request would count under an empty endpoint, and before the error handling
    /// and the authentication (UseSharedPipeline's <c>observe</c>), or their answers would be missed or counted as 2xx.
    /// A request with a method outside HTTP's own is answered 501 before it is counted: the method is a label, and
    /// arbitrary ones (FOO1, FOO2...) sent to the anonymous health endpoints would each add series for good.
    /// </summary>
    public static WebApplication UseMonitoring(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (KnownMethods.Contains(context.Request.Method)) return next(context);
            context.Response.StatusCode = StatusCodes.Status501NotImplemented;
            return Task.CompletedTask;
        });
        app.UseHttpMetrics(o => o.ReduceStatusCodeCardinality());
        return app;
    }

    private static readonly HashSet<string> KnownMethods = new(StringComparer.Ordinal)
    {
        HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch,
        HttpMethods.Options, HttpMethods.Trace, HttpMethods.Connect,
    };

    public static IEndpointRouteBuilder MapMonitoringEndpoints(this IEndpointRouteBuilder app)
    {
        // Liveness runs no check: the process answers. Readiness needs the database and an up-to-date schema.
        // All three stay anonymous whatever fallback policy the app sets: probes and Prometheus carry no credentials.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteJson })
            .WithTags("Monitoring").AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteJson })
            .WithTags("Monitoring").AllowAnonymous();
        // Like prometheus-net's MapMetrics, with this app's scrape-time collectors run first.
        var exporter = app.CreateApplicationBuilder()
            .UseMiddleware<ScrapeCollectors>()
            .UseMetricServer(_ => { }, url: null)
            .Build();
        app.Map(MetricsPath, exporter).WithTags("Monitoring").WithDisplayName("Prometheus metrics").AllowAnonymous();
        return app;
    }

    private static Task WriteJson(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            durationMs = report.TotalDuration.TotalMilliseconds,
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }
}

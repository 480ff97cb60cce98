using System.ComponentModel.DataAnnotations;
using Dsdc.Shared.Database;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Shared.Jobs;

public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Run a Hangfire server in this process (false for a web-only replica).</summary>
    public bool Server { get; set; } = true;

    /// <summary>
    /// Queues this process works on (unset: every queue); <c>training</c> always gets its own single worker. No default
    /// sits in the array itself: configuration binding appends to an array's existing items, so a default here (or in
    /// appsettings.json) would stay under every override, and a worker given <c>Jobs__Queues__0..2</c> would still train.
    /// </summary>
    public string[]? Queues { get; set; }

    /// <summary>The queues this process works on: <see cref="Queues"/> once each, or every queue when none is named.</summary>
    public IReadOnlyList<string> EffectiveQueues => Queues is { Length: > 0 } named ? named.Distinct(StringComparer.Ordinal).ToArray() : JobQueues.All;

    [Range(1, 256)]
    public int WorkerCount { get; set; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>
    /// Whether this process sets the recurring jobs (pipeline, training, predictions, simulated arrivals) from its own
    /// configuration at start. True for the app; the <c>worker</c> command and a web-only replica (<see cref="Server"/>
    /// false) default to false, so a process started with other settings never removes or changes the schedules every
    /// process shares.
    /// </summary>
    public bool ManageSchedules { get; set; } = true;

    /// <summary>The setting the <c>worker</c> command and a web-only replica start with, under any configured value.</summary>
    public static readonly KeyValuePair<string, string?> WorkerDefault = new($"{Section}:{nameof(ManageSchedules)}", "false");
}

public static class JobQueues
{
    public const string Default = "default";
    public const string Ocr = "ocr";
    public const string Embedding = "embedding";
    public const string Training = "training";
    public static readonly IReadOnlyList<string> All = [Default, Ocr, Embedding, Training];
}

public static class JobsModule
{
    public const string DashboardPath = "/hangfire";

    /// <summary>Hangfire on PostgreSQL (schema <c>hangfire</c>) and, unless disabled, its servers in this process.</summary>
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetRequiredValue(DatabaseModule.ConnectionStringKey);
        builder.AddValidatedOptions<JobsOptions>(JobsOptions.Section);
        var options = builder.Configuration.GetSection(JobsOptions.Section).Get<JobsOptions>() ?? new JobsOptions();
        var queues = options.EffectiveQueues;
        foreach (var queue in queues.Where(q => !JobQueues.All.Contains(q)))
            throw new ConfigurationException($"{JobsOptions.Section}:Queues", $"names an unknown queue '{queue}' (known: {string.Join(", ", JobQueues.All)})");

        // This host's storage and job activator are services of its own. Hangfire's defaults register them as the
        // process-wide JobStorage.Current and JobActivator.Current read after configuring, so two hosts starting side by
        // side in one process (a test run, an embedded host) could each take the other's database and services.
        // (Serializer settings, filters and the log provider stay process-wide: the host configured last sets them.)
        builder.Services.AddSingleton(_ => new HostJobStorage(connectionString));
        // As Hangfire's own registration does, asking for the storage applies the configuration first.
        builder.Services.AddSingleton<JobStorage>(sp =>
        {
            sp.GetRequiredService<IGlobalConfiguration>();
            return sp.GetRequiredService<HostJobStorage>().Storage;
        });
        builder.Services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        builder.Services.AddSingleton<RecurringSchedules>();
        builder.Services.AddHangfire((sp, c) => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(sp.GetRequiredService<HostJobStorage>().Storage));

        if (options.Server)
        {
            var general = queues.Where(q => q != JobQueues.Training).ToArray();
            if (general.Length > 0)
                builder.Services.AddHangfireServer(o => { o.Queues = general; o.WorkerCount = options.WorkerCount; });
            // Training uses every core on its own; one at a time, as in the original's max_active_runs=1.
            if (queues.Contains(JobQueues.Training))
                builder.Services.AddHangfireServer(o => { o.ServerName = $"{Environment.MachineName}:training"; o.Queues = [JobQueues.Training]; o.WorkerCount = 1; });
        }
        return builder;
    }

    /// <summary>This host's Hangfire storage (schema <c>hangfire</c>), created once per container.</summary>
    private sealed class HostJobStorage(string connectionString)
    {
        /// <summary>How old a row of <c>hangfire.lock</c> is when the next scheduler may take it over.</summary>
        public static readonly TimeSpan StaleLockAfter = TimeSpan.FromMinutes(1);

        public JobStorage Storage { get; } = Create(connectionString);

        private static PostgreSqlStorage Create(string connectionString)
        {
            var options = new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                // Hangfire's own schedulers (recurring jobs, delayed jobs and retries) take a row in hangfire.lock for the
                // moment they poll. A holder cut off by a database outage cannot delete its row, and the row blocked every
                // scheduler until it expired: 10 minutes by default, with no recurring pipeline run and no retry meanwhile.
                // They hold it for milliseconds, and this app's own jobs use advisory locks (OneAtATime), so a row older
                // than a minute is a dead holder's.
                DistributedLockTimeout = StaleLockAfter,
                // A fetched job stays invisible to other workers while its worker lives, however long it runs: without
                // this a job still running after InvisibilityTimeout (30 minutes: a training job on many documents, an
                // OCR batch of long scans) was fetched again by another worker and run twice.
                UseSlidingInvisibilityTimeout = true,
            };
            return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
        }
    }

    /// <summary>The dashboard: local requests only, until an authorization policy is given.</summary>
    public static IEndpointRouteBuilder MapJobsDashboard(this IEndpointRouteBuilder app, string? authorizationPolicy = null)
    {
        var dashboard = new DashboardOptions { DashboardTitle = "DSDC jobs", DisplayStorageConnectionString = false };
        if (authorizationPolicy is null)
            app.MapHangfireDashboard(DashboardPath, dashboard);
        else
        {
            dashboard.Authorization = [];
            app.MapHangfireDashboardWithAuthorizationPolicy(authorizationPolicy, DashboardPath, dashboard);
        }
        return app;
    }
}

using Dsdc.Ingestion;
using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Dsdc.Shared.Jobs;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dsdc.Pipeline;

public static class PipelineModule
{
    public static IHostApplicationBuilder AddPipelineModule(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<PipelineOptions>(PipelineOptions.Section)
            .Validate(o => !o.MockArrivals.Enabled || !string.IsNullOrWhiteSpace(o.MockArrivals.CorpusDir),
                $"{PipelineOptions.Section}:MockArrivals:CorpusDir is required when {PipelineOptions.Section}:MockArrivals:Enabled is true");
        builder.Services.AddSingleton<StageStore>();
        builder.Services.AddSingleton<DocumentProcessor>();
        builder.Services.AddSingleton<DocumentLineage>();
        builder.Services.AddSingleton<PageImages>();
        builder.Services.AddSingleton<IDocumentDeletionParticipant, PipelineDeletionParticipant>();
        builder.Services.AddSingleton<PipelineStages>();
        builder.Services.AddSingleton<DocumentProgress>();
        builder.Services.AddSingleton<PipelineRunner>();
        builder.Services.AddTransient<PipelineJobs>();
        builder.Services.AddTransient<MockArrivalsJob>();
        builder.Services.AddSingleton<ICliCommand, IngestCommand>();
        builder.Services.AddHostedService<PipelineSchedule>();
        builder.Services.AddSingleton<PipelineObservability>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PipelineObservability>());
        builder.Services.AddSingleton<Dsdc.Monitoring.IScrapeCollector>(sp => sp.GetRequiredService<PipelineObservability>());
        return builder;
    }

    /// <summary>Registers (or removes) the recurring jobs from configuration at start-up.</summary>
    private sealed class PipelineSchedule(RecurringSchedules recurring, IOptions<PipelineOptions> options) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var o = options.Value;
            recurring.Set<PipelineJobs>(PipelineJobs.RecurringId, j => j.RunScheduledAsync(CancellationToken.None), o.Cron, o.Enabled);
            recurring.Set<MockArrivalsJob>(MockArrivalsJob.RecurringId, j => j.Run(null), o.MockArrivals.Cron, o.MockArrivals.Enabled);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

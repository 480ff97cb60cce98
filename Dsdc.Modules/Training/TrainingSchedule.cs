using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>Registers (or removes, when disabled) the recurring training job at start.</summary>
internal sealed class TrainingSchedule(IRecurringJobManager jobs, IOptions<TrainingOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Enabled)
            jobs.AddOrUpdate<TrainingJob>(TrainingJob.RecurringId, j => j.RunAsync(CancellationToken.None), options.Value.Cron);
        else
            jobs.RemoveIfExists(TrainingJob.RecurringId);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

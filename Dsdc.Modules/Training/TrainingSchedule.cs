using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>Registers (or removes, when disabled) the recurring training job and the check for new labels at start.</summary>
internal sealed class TrainingSchedule(IRecurringJobManager jobs, IOptions<TrainingOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.Enabled)
            jobs.AddOrUpdate<TrainingJob>(TrainingJob.RecurringId, j => j.RunAsync(CancellationToken.None), o.Cron);
        else
            jobs.RemoveIfExists(TrainingJob.RecurringId);
        if (o.Enabled && o.RetrainAfterLabels > 0)
            jobs.AddOrUpdate<TrainingJob>(TrainingJob.NewLabelsRecurringId, j => j.RunAsync(TrainingTrigger.NewLabels, CancellationToken.None), o.NewLabelsCron);
        else
            jobs.RemoveIfExists(TrainingJob.NewLabelsRecurringId);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

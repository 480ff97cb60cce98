using Dsdc.Shared.Jobs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>Registers (or removes, when disabled) the recurring training job and the check for new labels at start.</summary>
internal sealed class TrainingSchedule(RecurringSchedules jobs, IOptions<TrainingOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        jobs.Set<TrainingJob>(TrainingJob.RecurringId, j => j.RunAsync(CancellationToken.None), o.Cron, o.Enabled);
        jobs.Set<TrainingJob>(TrainingJob.NewLabelsRecurringId, j => j.RunAsync(TrainingTrigger.NewLabels, CancellationToken.None), o.NewLabelsCron,
            o.Enabled && o.RetrainAfterLabels > 0);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

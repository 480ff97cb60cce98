using Dsdc.Shared.Jobs;
using Hangfire;

namespace Dsdc.Training;

/// <summary>What started a training job.</summary>
public enum TrainingTrigger
{
    /// <summary>The recurring job (<see cref="TrainingOptions.Cron"/>) or a person: trains unless nothing changed.</summary>
    Schedule,

    /// <summary>The check for new labels (<see cref="TrainingOptions.NewLabelsCron"/>): trains once enough labels were set.</summary>
    NewLabels,
}

/// <summary>
/// The recurring training job (the original's train_model DAG) and the check that trains sooner when labels arrive:
/// one at a time, on the training queue. Both are <c>RunAsync</c>, so they share one lock: Hangfire names
/// <see cref="DisableConcurrentExecutionAttribute"/>'s lock after the job's type and method name.
/// </summary>
public sealed class TrainingJob(TrainingService training)
{
    public const string RecurringId = "train-models";
    public const string NewLabelsRecurringId = "train-on-new-labels";

    [Queue(JobQueues.Training)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    [AutomaticRetry(Attempts = 0)]
    public Task<string> RunAsync(CancellationToken ct) => RunAsync(TrainingTrigger.Schedule, ct);

    [Queue(JobQueues.Training)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    [AutomaticRetry(Attempts = 0)]
    public async Task<string> RunAsync(TrainingTrigger trigger, CancellationToken ct)
    {
        var report = trigger == TrainingTrigger.NewLabels
            ? await training.TrainOnNewLabelsAsync(ct)
            : await training.TrainAsync(null, null, "schedule", ct, skipWhenUnchanged: true);
        return report.Skipped is { } why
            ? $"skipped: {why}"
            : $"{report.Runs.Count} run(s), {report.Runs.Count(r => r.Run.Status == "succeeded")} succeeded; {report.Promotion?.Message}";
    }
}

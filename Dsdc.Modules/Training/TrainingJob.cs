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
/// The recurring training job (the original's train_model DAG) and the check that trains sooner when labels arrive, on
/// the training queue. One training job runs at a time across every worker process, under a PostgreSQL advisory lock
/// (<see cref="TrainingService.TrainAsync"/>); a job that finds another running leaves at once and says so, rather than
/// waiting on Hangfire's <c>DisableConcurrentExecution</c> and failing after its timeout: the running job read the data
/// when it began, and the next check or hour takes whatever came after.
/// </summary>
public sealed class TrainingJob(TrainingService training)
{
    public const string RecurringId = "train-models";
    public const string NewLabelsRecurringId = "train-on-new-labels";

    [Queue(JobQueues.Training)]
    [AutomaticRetry(Attempts = 0)]
    public Task<string> RunAsync(CancellationToken ct) => RunAsync(TrainingTrigger.Schedule, ct);

    [Queue(JobQueues.Training)]
    [AutomaticRetry(Attempts = 0)]
    public async Task<string> RunAsync(TrainingTrigger trigger, CancellationToken ct)
    {
        var report = trigger == TrainingTrigger.NewLabels
            ? await training.TrainOnNewLabelsAsync(ct, skipWhenBusy: true)
            : await training.TrainAsync(null, null, "schedule", ct, skipWhenUnchanged: true, skipWhenBusy: true);
        return Describe(report);
    }

    /// <summary>
    /// A job a person asked for (the pipelines page): trains even when nothing changed since the last job, recorded as
    /// theirs; waits for a job already running rather than leaving.
    /// </summary>
    [Queue(JobQueues.Training)]
    [AutomaticRetry(Attempts = 0)]
    public async Task<string> RunRequestedAsync(string requestedBy, CancellationToken ct) =>
        Describe(await training.TrainAsync(null, null, requestedBy, ct));

    private static string Describe(TrainingReport report) =>
        report.Skipped is { } why
            ? $"skipped: {why}"
            : $"{report.Runs.Count} run(s), {report.Runs.Count(r => r.Run.Status == "succeeded")} succeeded; {report.Promotion?.Message}";
}

using Dsdc.Shared.Jobs;
using Hangfire;

namespace Dsdc.Training;

/// <summary>The recurring training job (the original's train_model DAG): one at a time, on the training queue.</summary>
public sealed class TrainingJob(TrainingService training)
{
    public const string RecurringId = "train-models";

    [Queue(JobQueues.Training)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    [AutomaticRetry(Attempts = 0)]
    public async Task<string> RunAsync(CancellationToken ct)
    {
        var report = await training.TrainAsync(null, null, "schedule", ct, skipWhenUnchanged: true);
        return report.Skipped is { } why
            ? $"skipped: {why}"
            : $"{report.Runs.Count} run(s), {report.Runs.Count(r => r.Run.Status == "succeeded")} succeeded; {report.Promotion?.Message}";
    }
}

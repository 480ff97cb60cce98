using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Training;
using Hangfire;
using Hangfire.Storage;
using Hangfire.Storage.Monitoring;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Pipelines;

public sealed record RecentJob(string Id, string Method, string State, DateTime? At);

/// <summary>Backlog, recent jobs and runs; enqueues ingestion or training (admin only, by the folder's policy).</summary>
public sealed class IndexModel(PipelineStages stages, InboxIngestor inbox, ModelRegistry registry, JobStorage storage,
    IBackgroundJobClient jobs, IServiceProvider services) : PageModel
{
    public PipelineBacklog? Backlog { get; private set; }
    public int InboxWaiting { get; private set; }

    /// <summary>Documents waiting for an embedding and for page features; null without the embedding module.</summary>
    public (long Embeddings, long PageFeatures)? EmbeddingBacklog { get; private set; }
    public StatisticsDto? Stats { get; private set; }
    public IReadOnlyList<RecentJob> Jobs { get; private set; } = [];
    public IReadOnlyList<RunSummary> Runs { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Backlog = await stages.BacklogAsync(ct);
        InboxWaiting = inbox.CountWaiting();
        if (services.GetService<IEmbeddingStage>() is { } embedding)
            EmbeddingBacklog = (await embedding.CountMissingAsync(ct), await embedding.CountMissingFeaturesAsync(ct));
        Runs = await registry.RunsAsync(5, ct);
        var monitor = storage.GetMonitoringApi();
        Stats = monitor.GetStatistics();
        Jobs = monitor.ProcessingJobs(0, 10).Select(j => new RecentJob(j.Key, Name(j.Value.Job), "processing", j.Value.StartedAt))
            .Concat(monitor.SucceededJobs(0, 10).Select(j => new RecentJob(j.Key, Name(j.Value.Job), "succeeded", j.Value.SucceededAt)))
            .Concat(monitor.FailedJobs(0, 10).Select(j => new RecentJob(j.Key, Name(j.Value.Job), "failed", j.Value.FailedAt)))
            .OrderByDescending(j => j.At).Take(20).ToList();
    }

    public IActionResult OnPostIngest()
    {
        var id = jobs.Enqueue<PipelineJobs>(j => j.RunAsync(CancellationToken.None));
        TempData["Message"] = $"Ingestion enqueued (job {id}).";
        return RedirectToPage();
    }

    public IActionResult OnPostTrain()
    {
        // A second click (or a colleague's) while a requested job waits or runs would train everything again on the same
        // data right after it: nothing is added, and the page says which job will train. Labels set meanwhile are taken
        // by the new-labels check, or by a request once this job is done.
        if (RequestedTrainingPending(storage) is { } pending)
        {
            TempData["Message"] = $"A training job someone asked for already {pending.State} (job {pending.Id}): nothing added. " +
                "Ask again once it is done to train on what changed meanwhile.";
            return RedirectToPage();
        }
        var by = "ui:" + (User.Identity?.Name ?? "unknown");
        var id = jobs.Enqueue<TrainingJob>(j => j.RunRequestedAsync(by, CancellationToken.None));
        TempData["Message"] = $"Training enqueued (job {id}): it trains even if nothing changed, after any job already running.";
        return RedirectToPage();
    }

    /// <summary>The training job a person asked for that has not finished yet: waiting on the training queue, or running.</summary>
    public static (string Id, string State)? RequestedTrainingPending(JobStorage storage)
    {
        static bool Requested(Hangfire.Common.Job? job) => job?.Type == typeof(TrainingJob) && job.Method.Name == nameof(TrainingJob.RunRequestedAsync);
        var monitor = storage.GetMonitoringApi();
        using var connection = storage.GetConnection();
        // Read each candidate's state again: a job deleted from the dashboard stays on its queue until a worker takes it
        // and drops it, and is not waiting.
        bool In(string id, string state) => connection.GetStateData(id)?.Name == state;
        foreach (var (id, job) in monitor.ProcessingJobs(0, 500))
            if (Requested(job.Job) && In(id, Hangfire.States.ProcessingState.StateName)) return (id, "runs");
        foreach (var (id, job) in monitor.EnqueuedJobs(Dsdc.Shared.Jobs.JobQueues.Training, 0, 500))
            if (Requested(job.Job) && In(id, Hangfire.States.EnqueuedState.StateName)) return (id, "waits");
        return null;
    }

    private static string Name(Hangfire.Common.Job? job) => job is null ? "?" : $"{job.Type.Name}.{job.Method.Name}";
}

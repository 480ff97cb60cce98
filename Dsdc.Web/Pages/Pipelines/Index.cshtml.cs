using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Training;
using Hangfire;
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
        var by = "ui:" + (User.Identity?.Name ?? "unknown");
        var id = jobs.Enqueue<TrainingJob>(j => j.RunRequestedAsync(by, CancellationToken.None));
        TempData["Message"] = $"Training enqueued (job {id}): it trains even if nothing changed, after any job already running.";
        return RedirectToPage();
    }

    private static string Name(Hangfire.Common.Job? job) => job is null ? "?" : $"{job.Type.Name}.{job.Method.Name}";
}

using Dsdc.Auth;
using Dsdc.Training;
using Dsdc.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Runs;

/// <summary>One run: parameters, learning curves, per-class metrics and confusion matrix; promotion for model admins.</summary>
public sealed class ShowModel(ModelRegistry registry, TrainingStore store) : PageModel
{
    public RunSummary? Run { get; private set; }
    public IReadOnlyList<EpochMetrics> Epochs { get; private set; } = [];
    public ModelScores? Scores { get; private set; }
    public long? ChampionRunId { get; private set; }

    /// <summary>The training set the run's model was fitted on, when recorded.</summary>
    public DatasetRecord? Dataset { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        Run = await registry.RunAsync(id, ct);
        if (Run is null) return NotFound();
        Epochs = await registry.EpochsAsync(id, ct);
        ChampionRunId = await registry.ChampionRunIdAsync(ct);
        Scores = await RunDisplay.ScoresAsync(store, id, ct);
        Dataset = await store.DatasetOfRunAsync(id, ct);
        return Page();
    }

    /// <summary>
    /// The documents the run's model was fitted on, as CSV (the API's <c>GET /api/v1/models/{id}/documents</c>), for the
    /// same roles as that route: model-admin and up.
    /// </summary>
    public async Task<IActionResult> OnGetDocumentsAsync(long id, CancellationToken ct)
    {
        if (!User.HasRoleAtLeast(Roles.ModelAdmin)) return Forbid();
        if (await store.DatasetOfRunAsync(id, ct) is not { } set) return NotFound();
        // Streamed: a training set of 10,000 documents (Training:MaxTrainingPerClass = 0 lets it grow past the cap) is
        // some 700 KB of CSV.
        Response.ContentType = "text/csv; charset=utf-8";
        Response.Headers.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = DatasetCsv.FileName(id) }.ToString();
        await DatasetCsv.WriteAsync(store, set.Id, Response.Body, ct);
        return new EmptyResult();
    }
}

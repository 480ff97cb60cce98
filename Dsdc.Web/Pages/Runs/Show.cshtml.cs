using System.Text.Json;
using Dsdc.Training;
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

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        Run = await registry.RunAsync(id, ct);
        if (Run is null) return NotFound();
        Epochs = await registry.EpochsAsync(id, ct);
        ChampionRunId = await registry.ChampionRunIdAsync(ct);
        if (await store.MetricsJsonAsync(id, ct) is { Length: > 0 } json)
        {
            try { Scores = JsonSerializer.Deserialize<ModelScores>(json, ModelManifest.Json); }
            catch (JsonException) { Scores = null; }
        }
        return Page();
    }
}

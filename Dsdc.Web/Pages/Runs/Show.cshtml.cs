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

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        Run = await registry.RunAsync(id, ct);
        if (Run is null) return NotFound();
        Epochs = await registry.EpochsAsync(id, ct);
        ChampionRunId = await registry.ChampionRunIdAsync(ct);
        Scores = await RunDisplay.ScoresAsync(store, id, ct);
        return Page();
    }
}

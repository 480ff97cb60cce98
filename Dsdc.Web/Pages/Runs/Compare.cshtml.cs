using Dsdc.Training;
using Dsdc.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Runs;

public sealed record ComparedRun(RunSummary Run, ModelScores? Scores);

/// <summary>Two runs side by side: metrics, per-class recall, confusion matrices, accuracy-coverage curves.</summary>
public sealed class CompareModel(ModelRegistry registry, TrainingStore store) : PageModel
{
    public ComparedRun? A { get; private set; }
    public ComparedRun? B { get; private set; }
    public long? ChampionRunId { get; private set; }

    /// <summary><c>?a=1&amp;b=2</c>, or the list page's two checked boxes (<c>?id=1&amp;id=2</c>).</summary>
    public async Task<IActionResult> OnGetAsync(long? a, long? b, [FromQuery(Name = "id")] long[]? ids, CancellationToken ct)
    {
        var chosen = new[] { a, b }.OfType<long>().Concat(ids ?? []).Distinct().ToList();
        if (chosen.Count != 2)
        {
            TempData["Message"] = "Choose exactly two runs to compare.";
            return RedirectToPage("/Runs/Index");
        }
        A = await LoadAsync(chosen[0], ct);
        B = await LoadAsync(chosen[1], ct);
        if (A is null || B is null) return NotFound();
        ChampionRunId = await registry.ChampionRunIdAsync(ct);
        return Page();
    }

    private async Task<ComparedRun?> LoadAsync(long id, CancellationToken ct) =>
        await registry.RunAsync(id, ct) is { } run ? new ComparedRun(run, await RunDisplay.ScoresAsync(store, id, ct)) : null;
}

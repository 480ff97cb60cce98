using Dsdc.Training;
using Dsdc.Web.Ui;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Runs;

/// <summary>Every run, best first, with the champion marked; two can be chosen for a side-by-side comparison.</summary>
public sealed class IndexModel(ModelRegistry registry) : PageModel
{
    public IReadOnlyList<RunSummary> Runs { get; private set; } = [];
    public long? ChampionRunId { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Runs = RunDisplay.BestFirst(await registry.RunsAsync(200, ct));
        ChampionRunId = await registry.ChampionRunIdAsync(ct);
    }
}

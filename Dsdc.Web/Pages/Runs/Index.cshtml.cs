using Dsdc.Training;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Runs;

public sealed class IndexModel(ModelRegistry registry) : PageModel
{
    public IReadOnlyList<RunSummary> Runs { get; private set; } = [];
    public long? ChampionRunId { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Runs = await registry.RunsAsync(200, ct);
        ChampionRunId = await registry.ChampionRunIdAsync(ct);
    }
}

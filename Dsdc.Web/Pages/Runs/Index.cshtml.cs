using Dsdc.Training;
using Dsdc.Web.Ui;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Runs;

/// <summary>
/// The runs, a page of the newest at a time (<c>?before=RUN</c> for older ones), best first within the page; the champion
/// is always shown, also when it is older than the page. Two can be chosen for a side-by-side comparison.
/// </summary>
public sealed class IndexModel(ModelRegistry registry) : PageModel
{
    public const int DefaultPageSize = 200;

    public IReadOnlyList<RunSummary> Runs { get; private set; } = [];
    public long? ChampionRunId { get; private set; }

    /// <summary>The champion when it is not on this page (older than it, or newer when paging back).</summary>
    public RunSummary? ChampionElsewhere { get; private set; }

    /// <summary>The run to page on from for older runs (the oldest on this page), null when there are none.</summary>
    public long? OlderBefore { get; private set; }

    public bool IsFirstPage { get; private set; }
    public int PageSize { get; private set; }
    public long TotalRuns { get; private set; }

    public async Task OnGetAsync(long? before, int? take, CancellationToken ct)
    {
        PageSize = Math.Clamp(take ?? DefaultPageSize, 1, 1000);
        IsFirstPage = before is null;
        var page = await registry.RunsAsync(PageSize + 1, ct, before);
        var shown = page.Take(PageSize).ToList();
        OlderBefore = page.Count > PageSize ? shown[^1].Id : null;
        Runs = RunDisplay.BestFirst(shown);
        ChampionRunId = await registry.ChampionRunIdAsync(ct);
        if (ChampionRunId is { } champion && shown.All(r => r.Id != champion)) ChampionElsewhere = await registry.RunAsync(champion, ct);
        TotalRuns = (await registry.RunCountsAsync(ct)).Values.Sum();
    }

    /// <summary>The address of the page of runs older than <paramref name="before"/>, keeping a chosen page size.</summary>
    public string OlderAddress(long before) => PageSize == DefaultPageSize ? $"/runs?before={before}" : $"/runs?before={before}&take={PageSize}";

    /// <summary>The first page, at the page size chosen.</summary>
    public string NewestAddress => PageSize == DefaultPageSize ? "/runs" : $"/runs?take={PageSize}";
}

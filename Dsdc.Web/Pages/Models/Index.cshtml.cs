using System.ComponentModel.DataAnnotations;
using Dsdc.Auth;
using Dsdc.Training;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Models;

/// <summary>Champion and promotion history; promote and roll back (model-admin and admin only, by the page's policy).</summary>
public sealed class IndexModel(ModelRegistry registry, Dsdc.Inference.IDocumentClassifier classifier) : PageModel
{
    /// <summary>How many of the newest runs the promote list reads.</summary>
    public const int CandidateRuns = 200;

    public long? ChampionRunId { get; private set; }

    /// <summary>The run this process serves (null: the zero-shot model, or none), and why not the champion when it cannot load it.</summary>
    public long? ServedRunId => classifier.ModelRunId;

    public string? LoadFailure => classifier.ChampionLoadFailure;

    /// <summary>Whether anything classifies here: a served run, or the zero-shot model when it is on.</summary>
    public bool CanClassify => classifier.CanClassify;
    public IReadOnlyList<RunSummary> Candidates { get; private set; } = [];
    public IReadOnlyList<Promotion> Promotions { get; private set; } = [];

    [BindProperty]
    public long RunId { get; set; }

    [BindProperty, StringLength(200)]
    public string? Reason { get; set; }

    /// <summary>The champion the page showed when the rollback was asked for.</summary>
    [BindProperty]
    public long? From { get; set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        ChampionRunId = await registry.ChampionRunIdAsync(ct);
        Candidates = (await registry.RunsAsync(CandidateRuns, ct)).Where(r => r.HasFiles && r.Id != ChampionRunId).ToList();
        Promotions = await registry.PromotionsAsync(ct);
    }

    public async Task<IActionResult> OnPostPromoteAsync(CancellationToken ct)
    {
        if (!ModelState.IsValid) return Refused();
        var result = await registry.PromoteAsync(RunId, User.GetUserName() ?? "unknown", Blank(Reason), ct);
        TempData["Message"] = (await Dsdc.Inference.Api.PromotionServing.TakeAsync(result, classifier, ct)).Message;
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostRollbackAsync(CancellationToken ct)
    {
        if (!ModelState.IsValid) return Refused();
        var result = await registry.RollbackAsync(User.GetUserName() ?? "unknown", Blank(Reason), ct, From);
        TempData["Message"] = (await Dsdc.Inference.Api.PromotionServing.TakeAsync(result, classifier, ct)).Message;
        return RedirectToPage();
    }

    /// <summary>A form the model binder refused (a run that is no number, a reason too long): said, not dropped.</summary>
    private RedirectToPageResult Refused()
    {
        TempData["Message"] = "Nothing changed: " + string.Join(" ", ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage).Where(m => m.Length > 0).DefaultIfEmpty("the form was not valid."));
        return RedirectToPage();
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}

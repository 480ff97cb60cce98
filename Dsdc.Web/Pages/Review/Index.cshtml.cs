using System.ComponentModel.DataAnnotations;
using Dsdc.Auth;
using Dsdc.Inference.Api;
using Dsdc.Inference.Review;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Review;

/// <summary>
/// The review queue (<see cref="ReviewQueue"/>): confirm or correct one document at a time, or confirm a selection of
/// predictions at once. Every decision is a human label (who and when) written by the same code as the API's correction.
/// </summary>
public sealed class IndexModel(ReviewQueue queue, PredictionStore store, Dsdc.Web.Ui.UiQueries queries) : PageModel
{
    public const int PageSize = 30;

    public IReadOnlyList<ReviewItem> Items { get; private set; } = [];

    /// <summary>The document the keyboard starts on: <c>?at=</c> when it is still in the queue, else the first.</summary>
    public string? CurrentId { get; private set; }

    [BindProperty, Required]
    public string? DocumentId { get; set; }

    [BindProperty, Required(ErrorMessage = "Choose the document's class."), Range(0, 15, ErrorMessage = "The label must be a class index from 0 to 15.")]
    public int? Label { get; set; }

    /// <summary>Where to go after the decision: the next document of the queue.</summary>
    [BindProperty]
    public string? Next { get; set; }

    [BindProperty]
    public List<string> Selected { get; set; } = [];

    /// <summary>The prediction whose top classes the buttons offered: a choice among them is not written over a label a
    /// person set after it (a colleague's correction meanwhile).</summary>
    [BindProperty]
    public long? Shown { get; set; }

    public async Task OnGetAsync(string? at, CancellationToken ct)
    {
        Items = await queue.NextAsync(PageSize, ct);
        CurrentId = Items.FirstOrDefault(i => i.DocumentId == at)?.DocumentId ?? Items.FirstOrDefault()?.DocumentId;
    }

    public async Task<IActionResult> OnPostDecideAsync(CancellationToken ct)
    {
        if (!ModelState.IsValid || Label is not { } label || DocumentId is not { } id || !PageImages.IsDocumentId(id)
            || !await store.DocumentExistsAsync(id, ct))
        {
            TempData["Message"] = "Nothing saved: choose a class for a stored document.";
            return RedirectToPage(new { at = DocumentId });
        }
        var user = User.GetUserName() ?? "anonymous";
        if (Shown is { } prediction)
        {
            // One of the prediction's top classes: only if nobody labelled the document since that prediction.
            var shown = await queue.ShownPredictionsAsync([(id, prediction)], ct);
            if (shown.Count == 0 || (await store.ConfirmAsync(id, label, shown[0].PredictedAt, user, ct)).Written is null)
            {
                // This person's own decision sent twice (a double click, Enter pressed again) is saved, not lost.
                TempData["Message"] = AlreadyTheirs(await queries.CurrentLabelAsync(id, ct), label, user)
                    ? $"{id[..8]} is labelled {DocumentClasses.NameOf(label)} by you already: nothing to change."
                    : $"Nothing saved: {id[..8]} was labelled by someone else after this prediction; its label stays.";
                return RedirectToPage(new { at = Next });
            }
        }
        else
        {
            // A document never predicted is in the queue because it has no label: labelled only while it still has none
            // (a colleague's label meanwhile stays, as a confirmation's does).
            var (_, written, current) = await store.AddHumanLabelIfAsync(id, label, user, now => now is null, ct);
            if (written is null)
            {
                TempData["Message"] = current is null
                    ? $"Nothing saved: {id[..8]} is no longer stored."
                    : AlreadyTheirs(current, label, user)
                    ? $"{id[..8]} is labelled {DocumentClasses.NameOf(label)} by you already: nothing to change."
                    : $"Nothing saved: {id[..8]} was labelled {Dsdc.Inference.Api.LabelVersions.Describe(current)} meanwhile; its label stays.";
                return RedirectToPage(new { at = Next });
            }
        }
        TempData["Message"] = $"Labelled {id[..8]} as {DocumentClasses.NameOf(label)}.";
        return RedirectToPage(new { at = Next });
    }

    private static bool AlreadyTheirs(Dsdc.Ingestion.LabelEntry? current, int label, string user) =>
        current is { Source: "human" } && current.Label == label && current.CreatedBy == user;

    /// <summary>Confirms, for every selected document, the prediction the page showed ("document id:prediction id"): not a
    /// newer one written meanwhile, and not over a label a person set since (those stay in the queue).</summary>
    public async Task<IActionResult> OnPostBulkAsync(CancellationToken ct)
    {
        var shown = Selected.Select(s => s.Split(':') is [var id, var prediction] && PageImages.IsDocumentId(id)
                && long.TryParse(prediction, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p)
                ? (id, p) : default((string, long)?))
            .OfType<(string, long)>().Distinct().ToList();
        var confirmed = 0;
        foreach (var p in await queue.ShownPredictionsAsync(shown, ct))
            if ((await store.ConfirmAsync(p.DocumentId, p.Label, p.PredictedAt, User.GetUserName() ?? "anonymous", ct, refreshServing: false))
                .Written is not null)
                confirmed++;
        if (confirmed > 0) await store.LabelsChangedAsync();
        TempData["Message"] = confirmed == 0 ? "Nothing confirmed: select documents that have a prediction nobody labelled since."
            : $"Confirmed {confirmed} prediction{(confirmed == 1 ? "" : "s")}.";
        return RedirectToPage();
    }
}

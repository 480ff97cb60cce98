using System.ComponentModel.DataAnnotations;
using Dsdc.Auth;
using Dsdc.Inference.Api;
using Dsdc.Shared;
using Dsdc.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Documents;

/// <summary>A document's lineage: raw file, texts, processed image, embeddings, labels and predictions; and its label,
/// set or corrected here (a document labelled at upload or by a dataset is never predicted, so it reaches neither a
/// prediction's page nor the review queue).</summary>
public sealed class ShowModel(UiQueries queries, PredictionStore predictions, Dsdc.Training.ModelRegistry registry,
    Dsdc.Training.TrainingStore training, Dsdc.Ingestion.DocumentDeletion deletion) : PageModel
{
    /// <summary>The box a model-admin ticks to delete the document: a deletion cannot be undone.</summary>
    [BindProperty]
    public bool ConfirmDelete { get; set; }

    public DocumentLineage? Lineage { get; private set; }

    /// <summary>Nullable and required: a post without the field (or with "abc") is a validation error, never class 0.</summary>
    [BindProperty, Required(ErrorMessage = "Choose the document's class label."), Range(0, 15, ErrorMessage = "The label must be a class index from 0 to 15.")]
    public int? Label { get; set; }

    /// <summary>The person's label the page showed (<see cref="LabelForm.SeenOf"/>): a save is refused when a person
    /// labelled the document after it, so a colleague's newer label is seen before it is replaced.</summary>
    [BindProperty, Range(typeof(long), "0", "3155378975999999999", ErrorMessage = "The page's record of the label it showed is not valid: reload the page.")]
    public long SeenLabel { get; set; }

    /// <summary>The current label: the newest of the document's labels (a person's wins over a dataset's).</summary>
    public Dsdc.Ingestion.LabelEntry? CurrentLabel { get; private set; }
    public IReadOnlyList<PredictionRow> Predictions { get; private set; } = [];

    /// <summary>Whether the champion was fitted on this document and with which label; null without a recorded training set.</summary>
    public Dsdc.Training.TrainedWith? Champion { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (!Dsdc.Pipeline.PageImages.IsDocumentId(id)) return NotFound();
        Lineage = await queries.LineageAsync(id, ct);
        if (Lineage is null) return NotFound();
        Predictions = await predictions.ForDocumentAsync(id, ct);
        CurrentLabel = await queries.CurrentLabelAsync(id, ct);
        if (await registry.ChampionRunIdAsync(ct) is { } champion) Champion = await training.TrainedWithAsync(champion, id, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken ct)
    {
        if (!Dsdc.Pipeline.PageImages.IsDocumentId(id) || await queries.LineageAsync(id, ct) is null) return NotFound();
        if (!ModelState.IsValid || Label is not { } label) return await OnGetAsync(id, ct);
        var result = await predictions.ConfirmAsync(id, label, LabelForm.Since(SeenLabel), User.GetUserName() ?? "anonymous", ct);
        var (message, showAgain) = LabelForm.Outcome(result, label);
        TempData["Message"] = message;
        return showAgain ? await OnGetAsync(id, ct) : RedirectToPage(new { id });
    }

    /// <summary>Deletes the document (model-admin and up, as <c>DELETE /api/v1/documents/{id}</c>), once the box is ticked.
    /// Every outcome redirects (the page's forms then post to the page itself, not to this handler).</summary>
    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken ct)
    {
        if (!User.HasRoleAtLeast(Roles.ModelAdmin)) return Forbid();
        if (!ConfirmDelete)
        {
            if (!Dsdc.Pipeline.PageImages.IsDocumentId(id) || await queries.LineageAsync(id, ct) is null) return NotFound();
            TempData["Message"] = "Nothing deleted: tick the box to confirm, as a deletion cannot be undone.";
            return RedirectToPage(new { id });
        }
        var outcome = await deletion.DeleteAsync(id, User.GetUserName() ?? "anonymous", ct);
        if (outcome == Dsdc.Ingestion.DeletionOutcome.Unknown) return NotFound();
        TempData["Message"] = outcome switch
        {
            Dsdc.Ingestion.DeletionOutcome.Deleted => $"Document {id[..12]} was deleted, with its file and everything derived from it.",
            Dsdc.Ingestion.DeletionOutcome.Hidden => $"Document {id[..12]} was deleted for every reader; some of its files could not be " +
                "removed now (the server's log says why), and the next ingestion run removes them.",
            Dsdc.Ingestion.DeletionOutcome.InUse => "Nothing deleted: the pipeline is working on this document right now; delete it again in a minute.",
            _ => "Nothing deleted: this document is being stored right now; delete it again in a moment.",
        };
        return outcome is Dsdc.Ingestion.DeletionOutcome.Deleted or Dsdc.Ingestion.DeletionOutcome.Hidden
            ? RedirectToPage("/Documents/Index") : RedirectToPage(new { id });
    }
}

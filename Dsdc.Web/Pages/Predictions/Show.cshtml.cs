using System.ComponentModel.DataAnnotations;
using Dsdc.Auth;
using Dsdc.Embedding;
using Dsdc.Inference.Api;
using Dsdc.Ingestion;
using Dsdc.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Predictions;

/// <summary>A recorded prediction: the page, the class and its probabilities, similar documents, and the human label form.</summary>
public sealed class ShowModel(UiQueries queries, SimilarDocumentSearch similar, PredictionStore store) : PageModel
{
    public const int SimilarCount = 6;

    public PredictionDetail? Prediction { get; private set; }
    public LabelEntry? CurrentLabel { get; private set; }
    public IReadOnlyList<SimilarDocument> Similar { get; private set; } = [];

    /// <summary>Nullable and required: a post without the field (or with "abc") is a validation error, never class 0.</summary>
    [BindProperty, Required(ErrorMessage = "Choose the document's class label."), Range(0, 15, ErrorMessage = "The label must be a class index from 0 to 15.")]
    public int? Label { get; set; }

    /// <summary>When the person's label the page showed was written (UTC ticks; 0 when it showed none): a save is refused
    /// when a person labelled the document after it, so a colleague's newer label is seen before it is replaced.</summary>
    [BindProperty, Range(typeof(long), "0", "3155378975999999999", ErrorMessage = "The page's record of the label it showed is not valid: reload the page.")]
    public long SeenLabel { get; set; }


    /// <summary>Why a prediction needs review: the zero-shot model answered, no confidence reached the target accuracy
    /// yet (threshold 1: few labels), or its probability is below the model's threshold.</summary>
    public static string WhyReview(PredictionDetail p) =>
        p.ModelRunId is null ? "no trained model served it; the zero-shot model answered from class descriptions, cue words and the page's look."
        : p.ReviewThreshold >= 1 ? "when the model was measured, none of its levels of confidence reached the target accuracy (too few labels yet), " +
            "so every answer it gives needs review. Confirm or correct it below: each label helps the next model."
        : $"the probability of the predicted class ({p.TopProbability:P1}) is below " +
            (p.ReviewThreshold is { } threshold ? $"the model's review threshold ({threshold:P1}), the level at which its answers" : "the level at which the model's answers") +
            " reach the target accuracy. Confirm or correct it below.";

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        Prediction = await queries.PredictionAsync(id, ct);
        if (Prediction is null) return NotFound();
        CurrentLabel = await queries.CurrentLabelAsync(Prediction.DocumentId, ct);
        Similar = await similar.FindSimilarToAsync(Prediction.DocumentId, SimilarCount, includeSelf: false, ct) ?? [];
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(long id, CancellationToken ct)
    {
        var prediction = await queries.PredictionAsync(id, ct);
        if (prediction is null) return NotFound();
        if (!ModelState.IsValid || Label is not { } label) return await OnGetAsync(id, ct);
        var result = await store.ConfirmAsync(prediction.DocumentId, label, LabelForm.Since(SeenLabel), User.GetUserName() ?? "anonymous", ct);
        var (message, showAgain) = LabelForm.Outcome(result, label);
        TempData["Message"] = message;
        return showAgain ? await OnGetAsync(id, ct) : RedirectToPage(new { id });
    }
}

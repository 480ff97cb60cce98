using Dsdc.Inference.Api;
using Dsdc.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Documents;

/// <summary>A document's lineage: raw file, texts, processed image, embeddings, labels and predictions.</summary>
public sealed class ShowModel(UiQueries queries, PredictionStore predictions, Dsdc.Training.ModelRegistry registry,
    Dsdc.Training.TrainingStore training) : PageModel
{
    public DocumentLineage? Lineage { get; private set; }
    public IReadOnlyList<PredictionRow> Predictions { get; private set; } = [];

    /// <summary>Whether the champion was fitted on this document and with which label; null without a recorded training set.</summary>
    public Dsdc.Training.TrainedWith? Champion { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (!Dsdc.Pipeline.PageImages.IsDocumentId(id)) return NotFound();
        Lineage = await queries.LineageAsync(id, ct);
        if (Lineage is null) return NotFound();
        Predictions = await predictions.ForDocumentAsync(id, ct);
        if (await registry.ChampionRunIdAsync(ct) is { } champion) Champion = await training.TrainedWithAsync(champion, id, ct);
        return Page();
    }
}

using Dsdc.Inference.Api;
using Dsdc.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Dsdc.Web.Pages.Documents;

/// <summary>A document's lineage: raw file, texts, processed image, embeddings, labels and predictions.</summary>
public sealed class ShowModel(UiQueries queries, PredictionStore predictions) : PageModel
{
    public DocumentLineage? Lineage { get; private set; }
    public IReadOnlyList<PredictionRow> Predictions { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct)
    {
        if (!Dsdc.Pipeline.PageImages.IsDocumentId(id)) return NotFound();
        Lineage = await queries.LineageAsync(id, ct);
        if (Lineage is null) return NotFound();
        Predictions = await predictions.ForDocumentAsync(id, ct);
        return Page();
    }
}

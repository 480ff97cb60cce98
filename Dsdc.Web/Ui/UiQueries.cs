using Dsdc.Embedding;
using Dsdc.Inference.Api;
using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared;

namespace Dsdc.Web.Ui;

public sealed record DocumentLineage(DocumentFile File, IReadOnlyList<RawTextEntry> RawTexts, IReadOnlyList<ProcessedTextEntry> ProcessedTexts,
    IReadOnlyList<ProcessedImageEntry> Images, IReadOnlyList<EmbeddingEntry> Embeddings, IReadOnlyList<LabelEntry> Labels,
    IReadOnlyList<StageFailureEntry> Failures);

/// <summary>
/// What the web UI's lists and lineage pages show, put together from the public query methods of the modules that own
/// the data (Ingestion, Pipeline, Embedding, Inference). The UI runs no SQL of its own.
/// </summary>
public sealed class UiQueries(IngestionQueries ingestion, DocumentProgress pipeline, EmbeddingStore embeddings, PredictionStore predictions,
    DocumentSearch search)
{
    public const int PageSize = 25;

    /// <summary>One page of the stored documents, newest first, filtered by <paramref name="query"/>
    /// (<see cref="DocumentSearch.SearchAsync"/>), and whether another follows.</summary>
    public Task<(IReadOnlyList<DocumentListItem> Items, bool More)> DocumentsAsync(string? query, int page, CancellationToken ct) =>
        search.SearchAsync(query, page, PageSize, ct);

    public async Task<DocumentLineage?> LineageAsync(string id, CancellationToken ct)
    {
        if (await ingestion.DocumentAsync(id, ct) is not { } file) return null;
        var steps = await pipeline.LineageAsync(id, ct);
        return new DocumentLineage(file, steps.RawTexts, steps.ProcessedTexts, steps.Images, await embeddings.ForDocumentAsync(id, ct),
            await ingestion.LabelsAsync(id, ct), steps.Failures);
    }

    public Task<PredictionDetail?> PredictionAsync(long id, CancellationToken ct) => predictions.FindAsync(id, ct);

    /// <summary>The current label of a document (<see cref="CurrentLabel"/>).</summary>
    public Task<LabelEntry?> CurrentLabelAsync(string id, CancellationToken ct) => ingestion.CurrentLabelAsync(id, ct);
}

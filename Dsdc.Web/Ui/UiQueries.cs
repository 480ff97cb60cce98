using Dsdc.Embedding;
using Dsdc.Inference.Api;
using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared;

namespace Dsdc.Web.Ui;

public sealed record DocumentListItem(
    string Id, string OriginalName, string MediaType, DateTime IngestedAt, bool HasImage, bool HasOcr, bool HasText, bool HasEmbedding,
    bool HasFailure, short? Label, string? LabelSource, short? PredictedLabel, double? PredictedConfidence);

public sealed record DocumentLineage(DocumentFile File, IReadOnlyList<RawTextEntry> RawTexts, IReadOnlyList<ProcessedTextEntry> ProcessedTexts,
    IReadOnlyList<ProcessedImageEntry> Images, IReadOnlyList<EmbeddingEntry> Embeddings, IReadOnlyList<LabelEntry> Labels,
    IReadOnlyList<StageFailureEntry> Failures);

/// <summary>
/// What the web UI's lists and lineage pages show, put together from the public query methods of the modules that own
/// the data (Ingestion, Pipeline, Embedding, Inference). The UI runs no SQL of its own.
/// </summary>
public sealed class UiQueries(IngestionQueries ingestion, DocumentProgress pipeline, EmbeddingStore embeddings, PredictionStore predictions)
{
    public const int PageSize = 25;

    /// <summary>
    /// Stored documents, newest first, filtered by <paramref name="query"/>: an id prefix, part of the file name, or a class
    /// name (current label). Returns one page and whether another follows.
    /// </summary>
    public async Task<(IReadOnlyList<DocumentListItem> Items, bool More)> DocumentsAsync(string? query, int page, CancellationToken ct)
    {
        query = string.IsNullOrWhiteSpace(query) ? null : TextInput.ForDatabase(query).Trim() is { Length: > 0 } q ? q : null;
        var classLabel = query is null ? -1 : DocumentClasses.Names.ToList().FindIndex(n => n.Equals(query, StringComparison.OrdinalIgnoreCase));
        var pattern = query?.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
        // An id is hexadecimal: only such a query is matched as an id prefix (a '_' or '%' would be a LIKE wildcard there).
        var idPrefix = query is not null && query.All(char.IsAsciiHexDigit) ? query.ToLowerInvariant() : null;
        var documents = await ingestion.DocumentsAsync(idPrefix, pattern, classLabel >= 0 ? classLabel : null,
            Math.Max(0, page - 1) * PageSize, PageSize + 1, ct);
        var shown = documents.Take(PageSize).ToList();
        var ids = shown.Select(d => d.Id).ToList();
        var stages = (await pipeline.StagesAsync(ids, ct)).ToDictionary(s => s.DocumentId);
        var latest = (await predictions.LatestAsync(ids, ct)).ToDictionary(p => p.DocumentId);
        var items = shown.Select(d =>
        {
            var s = stages.GetValueOrDefault(d.Id);
            var p = latest.GetValueOrDefault(d.Id);
            return new DocumentListItem(d.Id, d.OriginalName, d.MediaType, d.IngestedAt, s?.Image ?? false, s?.Ocr ?? false, s?.Text ?? false,
                s?.Embedding ?? false, s?.FailedStage is not null, d.Label, d.LabelSource, p?.Label, p?.Confidence);
        }).ToList();
        return (items, documents.Count > PageSize);
    }

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

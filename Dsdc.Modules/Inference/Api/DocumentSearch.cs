using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared;

namespace Dsdc.Inference.Api;

/// <summary>A stored document in a list: its pipeline progress, current label and newest prediction.</summary>
/// <param name="PredictedConfidence">The newest prediction's confidence (1 - H(p)/ln 16).</param>
public sealed record DocumentListItem(
    string Id, string OriginalName, string MediaType, DateTime IngestedAt, bool HasImage, bool HasOcr, bool HasText, bool HasEmbedding,
    bool HasFailure, short? Label, string? LabelSource, short? PredictedLabel, double? PredictedConfidence, long? LabelId = null);

/// <summary>
/// The stored documents list, for the web UI's <c>/documents</c> and <c>GET /api/v1/documents</c>: one page of the newest
/// documents matching a search, put together from the modules that own the data (Ingestion's documents and labels,
/// Pipeline's stages, Inference's predictions).
/// </summary>
public sealed class DocumentSearch(IngestionQueries ingestion, DocumentProgress pipeline, PredictionStore predictions)
{
    /// <summary>
    /// Stored documents, newest first, filtered by <paramref name="query"/>: an id prefix, part of the file name, or a class
    /// name (current label). Returns page <paramref name="page"/> (from 1) of <paramref name="pageSize"/> documents and
    /// whether another follows; with <paramref name="after"/>, the <paramref name="pageSize"/> documents that follow that
    /// place in the list instead (<paramref name="page"/> unused).
    /// </summary>
    public async Task<(IReadOnlyList<DocumentListItem> Items, bool More)> SearchAsync(string? query, int page, int pageSize, CancellationToken ct,
        ListPosition? after = null)
    {
        query = string.IsNullOrWhiteSpace(query) ? null : TextInput.ForDatabase(query).Trim() is { Length: > 0 } q ? q : null;
        var classLabel = query is null ? -1 : DocumentClasses.Names.ToList().FindIndex(n => n.Equals(query, StringComparison.OrdinalIgnoreCase));
        var pattern = query?.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
        // An id is hexadecimal: only such a query is matched as an id prefix (a '_' or '%' would be a LIKE wildcard there).
        var idPrefix = query is not null && query.All(char.IsAsciiHexDigit) ? query.ToLowerInvariant() : null;
        var documents = await ingestion.DocumentsAsync(idPrefix, pattern, classLabel >= 0 ? classLabel : null,
            after is null ? Math.Max(0, page - 1) * pageSize : 0, pageSize + 1, ct, after);
        var shown = documents.Take(pageSize).ToList();
        var ids = shown.Select(d => d.Id).ToList();
        var stages = (await pipeline.StagesAsync(ids, ct)).ToDictionary(s => s.DocumentId);
        var latest = (await predictions.LatestAsync(ids, ct)).ToDictionary(p => p.DocumentId);
        var items = shown.Select(d =>
        {
            var s = stages.GetValueOrDefault(d.Id);
            var p = latest.GetValueOrDefault(d.Id);
            return new DocumentListItem(d.Id, d.OriginalName, d.MediaType, d.IngestedAt, s?.Image ?? false, s?.Ocr ?? false, s?.Text ?? false,
                s?.Embedding ?? false, s?.FailedStage is not null, d.Label, d.LabelSource, p?.Label, p?.Confidence, d.LabelId);
        }).ToList();
        return (items, documents.Count > pageSize);
    }
}

using Dapper;
using Dsdc.Ingestion;
using Dsdc.Shared;
using Npgsql;

namespace Dsdc.Web.Ui;

public sealed record DocumentListItem(
    string Id, string OriginalName, string MediaType, DateTime IngestedAt, bool HasImage, bool HasOcr, bool HasText, bool HasEmbedding,
    bool HasFailure, short? Label, string? LabelSource, short? PredictedLabel, double? PredictedConfidence);

public sealed record DocumentFile(string Id, string OriginalName, string SourceFolder, string FilePath, string MediaType, long FileSize,
    int PageCount, int Width, int Height, DateTime IngestedAt);

public sealed record RawTextRow(string Text, string Method, string Processor, string ProcessorVersion, float? MeanConfidence, int DurationMs, DateTime CreatedAt);

public sealed record ProcessedTextRow(string Text, string Processor, string ProcessorVersion, DateTime CreatedAt);

public sealed record ProcessedImageRow(string FilePath, int Width, int Height, string Processor, string ProcessorVersion, DateTime CreatedAt);

public sealed record EmbeddingRow(string Encoder, string EncoderVersion, int Dimensions, DateTime CreatedAt);

public sealed record LabelRow(short Label, string Source, string? CreatedBy, DateTime CreatedAt);

public sealed record FailureRow(string Stage, string ProcessorVersion, int Attempts, string Error, DateTime LastAttemptAt);

/// <summary>A recorded prediction (a class: Npgsql reads real[] as an Array that Dapper's constructor matching refuses).</summary>
public sealed class PredictionDetail
{
    public long Id { get; init; }
    public string DocumentId { get; init; } = "";
    public string UserName { get; init; } = "";
    public string ModelId { get; init; } = "";
    public long? ModelRunId { get; init; }
    public bool NeedsReview { get; init; }
    public short Label { get; init; }
    public double Confidence { get; init; }
    public double TopProbability { get; init; }
    public float[] Probabilities { get; init; } = [];
    public int DurationMs { get; init; }
    public DateTime CreatedAt { get; init; }
}

public sealed record DocumentLineage(DocumentFile File, IReadOnlyList<RawTextRow> RawTexts, IReadOnlyList<ProcessedTextRow> ProcessedTexts,
    IReadOnlyList<ProcessedImageRow> Images, IReadOnlyList<EmbeddingRow> Embeddings, IReadOnlyList<LabelRow> Labels,
    IReadOnlyList<FailureRow> Failures);

/// <summary>Read-only SQL of the web UI's lists and lineage pages (the modules own the writes).</summary>
public sealed class UiQueries(NpgsqlDataSource dataSource)
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
        const string sql = $"""
            SELECT d.id, d.original_name, d.media_type, d.ingested_at,
                   EXISTS (SELECT 1 FROM processed_images i WHERE i.document_id = d.id) AS has_image,
                   EXISTS (SELECT 1 FROM raw_texts r WHERE r.document_id = d.id) AS has_ocr,
                   EXISTS (SELECT 1 FROM processed_texts t WHERE t.document_id = d.id) AS has_text,
                   EXISTS (SELECT 1 FROM embeddings e WHERE e.document_id = d.id) AS has_embedding,
                   EXISTS (SELECT 1 FROM stage_failures f WHERE f.document_id = d.id) AS has_failure,
                   l.label, l.source AS label_source, p.label AS predicted_label, p.confidence AS predicted_confidence
            FROM original_documents d
            LEFT JOIN LATERAL (SELECT label, source FROM labels WHERE document_id = d.id
                               ORDER BY {CurrentLabel.Order} LIMIT 1) l ON true
            LEFT JOIN LATERAL (SELECT label, confidence FROM inference.predictions WHERE document_id = d.id
                               ORDER BY created_at DESC, id DESC LIMIT 1) p ON true
            WHERE d.ingest_state = 'stored'
              AND (@query::text IS NULL OR d.id LIKE lower(@query) || '%' OR d.original_name ILIKE '%' || @pattern || '%' OR l.label = @classLabel)
            ORDER BY d.ingested_at DESC, d.id
            LIMIT @take OFFSET @skip
            """;
        var pattern = query?.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<DocumentListItem>(new CommandDefinition(sql,
            new { query, pattern, classLabel, take = PageSize + 1, skip = Math.Max(0, page - 1) * PageSize }, cancellationToken: ct))).AsList();
        return rows.Count > PageSize ? (rows.Take(PageSize).ToList(), true) : (rows, false);
    }

    public async Task<DocumentLineage?> LineageAsync(string id, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var file = await conn.QuerySingleOrDefaultAsync<DocumentFile>(new CommandDefinition("""
            SELECT id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height, ingested_at
            FROM original_documents WHERE id = @id AND ingest_state = 'stored'
            """, new { id }, cancellationToken: ct));
        if (file is null) return null;
        async Task<List<T>> All<T>(string sql) => (await conn.QueryAsync<T>(new CommandDefinition(sql, new { id }, cancellationToken: ct))).AsList();
        return new DocumentLineage(file,
            await All<RawTextRow>("SELECT text, method, processor, processor_version, mean_confidence, duration_ms, created_at FROM raw_texts WHERE document_id = @id ORDER BY created_at DESC"),
            await All<ProcessedTextRow>("SELECT text, processor, processor_version, created_at FROM processed_texts WHERE document_id = @id ORDER BY created_at DESC"),
            await All<ProcessedImageRow>("SELECT file_path, width, height, processor, processor_version, created_at FROM processed_images WHERE document_id = @id ORDER BY created_at DESC"),
            await All<EmbeddingRow>("SELECT encoder, encoder_version, dimensions, created_at FROM embeddings WHERE document_id = @id ORDER BY created_at DESC"),
            await All<LabelRow>("SELECT label, source, created_by, created_at FROM labels WHERE document_id = @id ORDER BY created_at DESC, id DESC"),
            await All<FailureRow>("SELECT stage, processor_version, attempts, error, last_attempt_at FROM stage_failures WHERE document_id = @id ORDER BY last_attempt_at DESC"));
    }

    public async Task<PredictionDetail?> PredictionAsync(long id, CancellationToken ct)
    {
        const string sql = """
            SELECT id, document_id, user_name, model_id, model_run_id, label, confidence, top_probability, probabilities, duration_ms, created_at,
                   needs_review
            FROM inference.predictions WHERE id = @id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<PredictionDetail>(new CommandDefinition(sql, new { id }, cancellationToken: ct));
    }

    /// <summary>The current label of a document (<see cref="CurrentLabel"/>).</summary>
    public async Task<LabelRow?> CurrentLabelAsync(string id, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        const string sql = $"SELECT label, source, created_by, created_at FROM labels WHERE document_id = @id ORDER BY {CurrentLabel.Order} LIMIT 1";
        return await conn.QuerySingleOrDefaultAsync<LabelRow>(new CommandDefinition(sql, new { id }, cancellationToken: ct));
    }
}

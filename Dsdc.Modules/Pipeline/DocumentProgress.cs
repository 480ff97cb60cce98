using Dapper;
using Npgsql;

namespace Dsdc.Pipeline;

/// <summary>Where one document is in the pipeline: which stages have produced their output, and the last failure.</summary>
public sealed record DocumentStages(string DocumentId, bool Image, bool Ocr, bool Text, bool Embedding, string? FailedStage, string? Error)
{
    /// <summary>Every stage done (the document can be searched, trained on and shown as similar).</summary>
    public bool Done => Image && Ocr && Text && Embedding;
}

public sealed record RawTextEntry(string Text, string Method, string Processor, string ProcessorVersion, float? MeanConfidence, int DurationMs, DateTime CreatedAt);

public sealed record ProcessedTextEntry(string Text, string Processor, string ProcessorVersion, DateTime CreatedAt);

public sealed record ProcessedImageEntry(string FilePath, int Width, int Height, string Processor, string ProcessorVersion, DateTime CreatedAt);

public sealed record StageFailureEntry(string Stage, string ProcessorVersion, int Attempts, string Error, DateTime LastAttemptAt);

/// <summary>What the pipeline made of one document: every version of each stage's output, newest first, and its failures.</summary>
public sealed record PipelineLineage(IReadOnlyList<RawTextEntry> RawTexts, IReadOnlyList<ProcessedTextEntry> ProcessedTexts,
    IReadOnlyList<ProcessedImageEntry> Images, IReadOnlyList<StageFailureEntry> Failures);

/// <summary>Read-only progress of given documents through the stages, for pages and clients that follow an upload.</summary>
public sealed class DocumentProgress(NpgsqlDataSource dataSource)
{
    public const int MaxDocuments = 1000;

    public async Task<IReadOnlyList<DocumentStages>> StagesAsync(IReadOnlyCollection<string> documentIds, CancellationToken ct)
    {
        if (documentIds.Count == 0) return [];
        const string sql = """
            SELECT d.id AS document_id,
                   EXISTS (SELECT 1 FROM pipeline.processed_images i WHERE i.document_id = d.id) AS image,
                   EXISTS (SELECT 1 FROM pipeline.raw_texts r WHERE r.document_id = d.id) AS ocr,
                   EXISTS (SELECT 1 FROM pipeline.processed_texts t WHERE t.document_id = d.id) AS text,
                   EXISTS (SELECT 1 FROM embedding.vectors e WHERE e.document_id = d.id) AS embedding,
                   f.stage AS failed_stage, f.error
            FROM ingestion.documents d
            LEFT JOIN LATERAL (SELECT stage, error FROM pipeline.stage_failures WHERE document_id = d.id
                               ORDER BY last_attempt_at DESC LIMIT 1) f ON true
            WHERE d.id = ANY(@ids)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<DocumentStages>(new CommandDefinition(sql,
            new { ids = documentIds.Take(MaxDocuments).ToArray() }, cancellationToken: ct))).AsList();
    }

    /// <summary>The pipeline's rows of one document (the lineage page).</summary>
    public async Task<PipelineLineage> LineageAsync(string id, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        async Task<List<T>> All<T>(string sql) => (await conn.QueryAsync<T>(new CommandDefinition(sql, new { id }, cancellationToken: ct))).AsList();
        return new PipelineLineage(
            await All<RawTextEntry>("SELECT text, method, processor, processor_version, mean_confidence, duration_ms, created_at FROM pipeline.raw_texts WHERE document_id = @id ORDER BY created_at DESC"),
            await All<ProcessedTextEntry>("SELECT text, processor, processor_version, created_at FROM pipeline.processed_texts WHERE document_id = @id ORDER BY created_at DESC"),
            await All<ProcessedImageEntry>("SELECT file_path, width, height, processor, processor_version, created_at FROM pipeline.processed_images WHERE document_id = @id ORDER BY created_at DESC"),
            await All<StageFailureEntry>("SELECT stage, processor_version, attempts, error, last_attempt_at FROM pipeline.stage_failures WHERE document_id = @id ORDER BY last_attempt_at DESC"));
    }
}

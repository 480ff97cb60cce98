using Dapper;
using Npgsql;

namespace Dsdc.Pipeline;

/// <summary>Where one document is in the pipeline: which stages have produced their output, and the last failure.</summary>
public sealed record DocumentStages(string DocumentId, bool Image, bool Ocr, bool Text, bool Embedding, string? FailedStage, string? Error)
{
    /// <summary>Every stage done (the document can be searched, trained on and shown as similar).</summary>
    public bool Done => Image && Ocr && Text && Embedding;
}

/// <summary>Read-only progress of given documents through the stages, for pages and clients that follow an upload.</summary>
public sealed class DocumentProgress(NpgsqlDataSource dataSource)
{
    public const int MaxDocuments = 1000;

    public async Task<IReadOnlyList<DocumentStages>> StagesAsync(IReadOnlyCollection<string> documentIds, CancellationToken ct)
    {
        if (documentIds.Count == 0) return [];
        const string sql = """
            SELECT d.id AS document_id,
                   EXISTS (SELECT 1 FROM processed_images i WHERE i.document_id = d.id) AS image,
                   EXISTS (SELECT 1 FROM raw_texts r WHERE r.document_id = d.id) AS ocr,
                   EXISTS (SELECT 1 FROM processed_texts t WHERE t.document_id = d.id) AS text,
                   EXISTS (SELECT 1 FROM embeddings e WHERE e.document_id = d.id) AS embedding,
                   f.stage AS failed_stage, f.error
            FROM original_documents d
            LEFT JOIN LATERAL (SELECT stage, error FROM stage_failures WHERE document_id = d.id
                               ORDER BY last_attempt_at DESC LIMIT 1) f ON true
            WHERE d.id = ANY(@ids)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<DocumentStages>(new CommandDefinition(sql,
            new { ids = documentIds.Take(MaxDocuments).ToArray() }, cancellationToken: ct))).AsList();
    }
}

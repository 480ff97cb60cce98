using Dapper;
using Dsdc.Shared;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector;

namespace Dsdc.Embedding;

/// <summary>A neighbour: its newest label (a human label wins over the dataset's), if any, and its cosine distance.</summary>
public sealed record SimilarDocument(string DocumentId, double Distance, int? Label, string? ClassName, string? LabelSource);

/// <summary>
/// Nearest documents by cosine distance among the vectors of the configured encoder, through its HNSW index
/// (sql/0004_embedding_indexes.sql): the query repeats the index's cast and encoder predicate so PostgreSQL can use it.
/// A document is matched by its newest vector only: one embedded again (a newer image or text processor, more OCR
/// readings) keeps its older vectors for the runs that trained on them, and is still one neighbour.
/// </summary>
public sealed class SimilarDocumentSearch(
    NpgsqlDataSource dataSource, EmbeddingStore store, IDocumentEncoder encoder, IOptions<EmbeddingOptions> options)
{
    public const int MaxK = 100;

    /// <summary>The <paramref name="k"/> documents nearest to <paramref name="vector"/> (of the encoder's dimension).</summary>
    public Task<IReadOnlyList<SimilarDocument>> FindAsync(float[] vector, int k, CancellationToken ct) =>
        QueryAsync(vector, k, excludeDocumentId: null, ct);

    /// <summary>
    /// The documents nearest to a stored document (its newest vector); the document itself comes first, at distance 0,
    /// unless <paramref name="includeSelf"/> is false. Null when the document has no vector from this encoder.
    /// </summary>
    public async Task<IReadOnlyList<SimilarDocument>?> FindSimilarToAsync(string documentId, int k, bool includeSelf, CancellationToken ct)
    {
        return await store.FindAsync(documentId, encoder.Id, encoder.Version, ct) is { } vector
            ? await QueryAsync(vector, k, includeSelf ? null : documentId, ct)
            : null;
    }

    private async Task<IReadOnlyList<SimilarDocument>> QueryAsync(float[] vector, int k, string? excludeDocumentId, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxK);
        if (vector.Length != encoder.Dimensions)
            throw new ArgumentException($"the vector has {vector.Length} values; {encoder.Id} makes {encoder.Dimensions}", nameof(vector));

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Local to this transaction: a larger candidate list for better recall, and iterative scans so that the
        // version and self filters still leave k rows. Iterative scans came with pgvector 0.8, and an older one refuses
        // the unknown hnsw.* setting (an operating system's own package can be older): there it is not asked for.
        await conn.ExecuteAsync(new CommandDefinition(
            """
            SELECT set_config('hnsw.ef_search', @ef, true),
                   CASE WHEN (SELECT string_to_array(extversion, '.')::int[] >= '{0,8}' FROM pg_extension WHERE extname = 'vector')
                        THEN set_config('hnsw.iterative_scan', 'strict_order', true) END
            """,
            new { ef = Math.Max(options.Value.EfSearch, k).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            tx, cancellationToken: ct));
        var rows = await conn.QueryAsync<Row>(new CommandDefinition(SimilarSql(encoder.Dimensions),
            new { query = new Vector(vector), encoder = encoder.Id, version = encoder.Version, k, exclude = excludeDocumentId },
            tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return rows.Select(r => new SimilarDocument(r.DocumentId, r.Distance, r.Label,
            r.Label is { } l ? DocumentClasses.NameOf(l) : null, r.LabelSource)).ToList();
    }

    /// <summary>
    /// The dimension is part of the index expression, so it is written into the SQL text (an integer the encoder
    /// reports, never user input); one text per encoder, so Dapper's cache stays small.
    /// </summary>
    internal static string SimilarSql(int dimensions) => $"""
        SELECT n.document_id, n.distance, lb.label, lb.source AS label_source
        FROM (
            SELECT e.document_id, (e.embedding::vector({dimensions})) <=> (@query::vector({dimensions})) AS distance
            FROM embedding.embeddings e
            WHERE e.encoder = @encoder AND e.encoder_version = @version
              AND (@exclude::text IS NULL OR e.document_id <> @exclude::text)
              AND NOT EXISTS (SELECT 1 FROM embedding.embeddings newer
                              WHERE newer.document_id = e.document_id AND newer.encoder = e.encoder
                                AND newer.encoder_version = e.encoder_version
                                AND (newer.created_at, newer.id) > (e.created_at, e.id))
            ORDER BY (e.embedding::vector({dimensions})) <=> (@query::vector({dimensions}))
            LIMIT @k + 8
        ) n
        LEFT JOIN LATERAL (
            SELECT c.label, c.source FROM ingestion.current_labels c WHERE c.document_id = n.document_id
        ) lb ON true
        WHERE EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = n.document_id) -- not one being deleted (8 to spare)
        ORDER BY n.distance
        LIMIT @k
        """;

    private sealed record Row(string DocumentId, double Distance, short? Label, string? LabelSource);
}

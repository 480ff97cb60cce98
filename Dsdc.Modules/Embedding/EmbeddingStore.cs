using Dapper;
using Npgsql;
using Pgvector;

namespace Dsdc.Embedding;

/// <summary>A document waiting for an embedding: its newest processed image and newest processed text.</summary>
internal sealed record PendingDocument(string DocumentId, long ProcessedImageId, string ImagePath, long ProcessedTextId, string Text);

internal sealed record NewEmbedding(
    string DocumentId, long ProcessedImageId, long ProcessedTextId, string Encoder, string Version, int Dimensions, Vector Embedding);

/// <summary>One stored vector of a document, without the vector.</summary>
public sealed record EmbeddingEntry(string Encoder, string EncoderVersion, int Dimensions, DateTime CreatedAt);

/// <summary>The <c>embeddings</c> table: what is missing, what was computed, what is stored.</summary>
public sealed class EmbeddingStore(NpgsqlDataSource dataSource)
{
    // A document needs a vector when its newest image + newest text pair has none for this encoder and version,
    // so a newer image or text processor leads to a new vector while the old one stays for the runs that used it.
    private const string PendingFrom = """
        FROM ingestion.documents d
        CROSS JOIN LATERAL (SELECT p.id, p.file_path FROM pipeline.images p WHERE p.document_id = d.id
                            ORDER BY p.created_at DESC, p.id DESC LIMIT 1) img
        CROSS JOIN LATERAL (SELECT t.id, t.text FROM pipeline.texts t WHERE t.document_id = d.id
                            ORDER BY t.created_at DESC, t.id DESC LIMIT 1) txt
        WHERE NOT EXISTS (SELECT 1 FROM embedding.embeddings e
                          WHERE e.processed_image_id = img.id AND e.processed_text_id = txt.id
                            AND e.encoder = @encoder AND e.encoder_version = @version)
          AND NOT EXISTS (SELECT 1 FROM embedding.features_given_up g
                          WHERE g.document_id = d.id AND g.kind = 'vector:' || @encoder AND g.version = @version || '/' || img.id::text)
        """;

    /// <summary>The failure record's (kind, version) of a document whose processed image the encoder could not read: per
    /// encoder and processed image, so a new image (another image processor) is tried afresh.</summary>
    internal static (string Kind, string Version) VectorFailureKey(string encoder, string version, long processedImageId) =>
        ("vector:" + encoder, $"{version}/{processedImageId.ToString(System.Globalization.CultureInfo.InvariantCulture)}");

    internal async Task<IReadOnlyList<PendingDocument>> PendingAsync(
        string encoder, string version, int limit, IReadOnlyCollection<string> skip, CancellationToken ct)
    {
        const string sql = "SELECT d.id AS document_id, img.id AS processed_image_id, img.file_path AS image_path, " +
            "txt.id AS processed_text_id, txt.text " + PendingFrom +
            " AND NOT (d.id = ANY(@skip)) ORDER BY d.ingested_at, d.id LIMIT @limit";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<PendingDocument>(
            new CommandDefinition(sql, new { encoder, version, limit, skip = skip.ToArray() }, cancellationToken: ct));
        return rows.AsList();
    }

    public async Task<long> CountPendingAsync(string encoder, string version, CancellationToken ct)
    {
        const string sql = "SELECT count(*) " + PendingFrom;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(sql, new { encoder, version }, cancellationToken: ct));
    }

    /// <summary>Inserts the vectors; a row that already exists (another worker, a re-run) is left as it is. With
    /// <paramref name="storedOnly"/> (the embedding job's), a document no longer stored (deleted while it was encoded) gets
    /// none; without (a prediction's lineage), the document is not stored yet.</summary>
    /// <returns>How many rows were inserted now.</returns>
    internal async Task<int> AddAsync(IReadOnlyList<NewEmbedding> rows, CancellationToken ct, bool storedOnly = false)
    {
        const string sql = """
            INSERT INTO embedding.embeddings (document_id, processed_image_id, processed_text_id, encoder, encoder_version, dimensions, embedding)
            SELECT @DocumentId, @ProcessedImageId, @ProcessedTextId, @Encoder, @Version, @Dimensions, @Embedding
            WHERE NOT @StoredOnly OR EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = @DocumentId)
            ON CONFLICT (processed_image_id, processed_text_id, encoder, encoder_version) DO NOTHING
            """;
        if (rows.Count == 0) return 0;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var inserted = await conn.ExecuteAsync(new CommandDefinition(sql,
            rows.Select(r => new { r.DocumentId, r.ProcessedImageId, r.ProcessedTextId, r.Encoder, r.Version, r.Dimensions, r.Embedding, StoredOnly = storedOnly }),
            tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return inserted;
    }

    /// <summary>
    /// Stores one document's vector, computed from the processed image and the processed text with these ids; an
    /// existing row (a re-run, another worker) is kept. Returns whether a row was inserted now.
    /// </summary>
    public async Task<bool> AddAsync(string documentId, long processedImageId, long processedTextId, string encoder, string version,
        float[] vector, CancellationToken ct) =>
        await AddAsync([new NewEmbedding(documentId, processedImageId, processedTextId, encoder, version, vector.Length, new Vector(vector))], ct) == 1;

    /// <summary>Every vector of a document (encoder, version, size), newest first.</summary>
    public async Task<IReadOnlyList<EmbeddingEntry>> ForDocumentAsync(string documentId, CancellationToken ct)
    {
        const string sql = "SELECT encoder, encoder_version, dimensions, created_at FROM embedding.embeddings WHERE document_id = @documentId ORDER BY created_at DESC";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<EmbeddingEntry>(new CommandDefinition(sql, new { documentId }, cancellationToken: ct))).AsList();
    }

    /// <summary>The newest vector of a stored document for one encoder and version, or null.</summary>
    public async Task<float[]?> FindAsync(string documentId, string encoder, string version, CancellationToken ct)
    {
        const string sql = """
            SELECT embedding FROM embedding.embeddings
            WHERE document_id = @documentId AND encoder = @encoder AND encoder_version = @version
              AND EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = @documentId)
            ORDER BY created_at DESC, id DESC LIMIT 1
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var vector = await conn.QuerySingleOrDefaultAsync<Vector?>(
            new CommandDefinition(sql, new { documentId, encoder, version }, cancellationToken: ct));
        return vector?.ToArray();
    }

    /// <summary>Stored documents with a vector from this encoder but no page features of this kind and version.</summary>
    private const string PendingFeaturesFrom = """
        FROM ingestion.documents d
        WHERE EXISTS (SELECT 1 FROM embedding.embeddings e WHERE e.document_id = d.id)
          AND NOT EXISTS (SELECT 1 FROM embedding.page_features f WHERE f.document_id = d.id AND f.kind = @kind AND f.version = @version)
          AND NOT EXISTS (SELECT 1 FROM embedding.features_given_up g WHERE g.document_id = d.id AND g.kind = @kind AND g.version = @version)
        """;

    internal async Task<IReadOnlyList<(string DocumentId, string FilePath, string MediaType)>> PendingFeaturesAsync(
        string kind, string version, int limit, IReadOnlyCollection<string> skip, CancellationToken ct)
    {
        const string sql = "SELECT d.id, d.file_path, d.media_type " + PendingFeaturesFrom +
            " AND NOT (d.id = ANY(@skip)) ORDER BY d.ingested_at, d.id LIMIT @limit";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string, string, string)>(
            new CommandDefinition(sql, new { kind, version, limit, skip = skip.ToArray() }, cancellationToken: ct));
        return rows.AsList();
    }

    public async Task<long> CountPendingFeaturesAsync(string kind, string version, CancellationToken ct)
    {
        const string sql = "SELECT count(*) " + PendingFeaturesFrom;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(sql, new { kind, version }, cancellationToken: ct));
    }

    /// <summary>Counts one more failure to compute a document's page features (embedding.page_feature_failures); after
    /// three the stage gives up on them (embedding.features_given_up). Nothing for a document no longer stored (deleted
    /// while it was read: its file went first).</summary>
    public async Task RecordFeatureFailureAsync(string documentId, string kind, string version, string error, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO embedding.page_feature_failures (document_id, kind, version, error)
            SELECT @documentId, @kind, @version, @error WHERE EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = @documentId)
            ON CONFLICT (document_id, kind, version)
            DO UPDATE SET attempts = page_feature_failures.attempts + 1, error = EXCLUDED.error, failed_at = now()
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql, new { documentId, kind, version, error }, cancellationToken: ct));
    }

    /// <summary>Stores one document's page features; an existing row (a re-run, another worker) is kept. With
    /// <paramref name="storedOnly"/> (the embedding job's), nothing for a document no longer stored (deleted while it was
    /// read); without (a prediction's lineage), the document is not stored yet.</summary>
    public async Task<bool> AddFeaturesAsync(string documentId, string kind, string version, float[] features, CancellationToken ct,
        bool storedOnly = false)
    {
        const string sql = """
            INSERT INTO embedding.page_features (document_id, kind, version, dimensions, features)
            SELECT @documentId, @kind, @version, @dimensions, @vector
            WHERE NOT @storedOnly OR EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = @documentId)
            ON CONFLICT (document_id, kind, version) DO NOTHING
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(sql,
            new { documentId, kind, version, dimensions = features.Length, vector = new Vector(features), storedOnly }, cancellationToken: ct)) == 1;
    }

    /// <summary>The page features of one document, or null.</summary>
    public async Task<float[]?> FindFeaturesAsync(string documentId, string kind, string version, CancellationToken ct)
    {
        const string sql = "SELECT features FROM embedding.page_features WHERE document_id = @documentId AND kind = @kind AND version = @version";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var vector = await conn.QuerySingleOrDefaultAsync<Vector?>(new CommandDefinition(sql, new { documentId, kind, version }, cancellationToken: ct));
        return vector?.ToArray();
    }
}

using Dapper;
using Npgsql;
using Pgvector;

namespace Dsdc.Training;

/// <summary>A labelled, embedded document as stored: its vector, cleaned and raw text, and processed image path.</summary>
public sealed record StoredExample(LabelledVector Example, string? Text, string? RawText, string? ImagePath);

/// <summary>
/// SQL of the training module: it reads the lineage (newest vector of one encoder per stored document, the effective
/// label: the newest human label over the dataset's) and owns schema <c>training</c> (split, runs, epochs, promotions).
/// </summary>
public sealed partial class TrainingStore(NpgsqlDataSource dataSource)
{
    private const string LabelledSql = """
        SELECT e.document_id, lb.label, e.embedding, CASE WHEN @withText THEN t.text END AS text,
               CASE WHEN @withText THEN r.text END AS raw_text, CASE WHEN @withText THEN i.file_path END AS image_path
        FROM (SELECT DISTINCT ON (document_id) document_id, embedding, processed_text_id, processed_image_id FROM embeddings
              WHERE encoder = @encoder AND encoder_version = @version
              ORDER BY document_id, created_at DESC, id DESC) e
        JOIN original_documents d ON d.id = e.document_id AND d.ingest_state = 'stored'
        JOIN LATERAL (SELECT l.label FROM labels l WHERE l.document_id = e.document_id
                      ORDER BY (l.source = 'human') DESC, l.created_at DESC, l.id DESC LIMIT 1) lb ON true
        LEFT JOIN processed_texts t ON t.id = e.processed_text_id
        LEFT JOIN raw_texts r ON r.id = t.raw_text_id
        LEFT JOIN processed_images i ON i.id = e.processed_image_id
        ORDER BY e.document_id
        """;

    /// <summary>Every labelled document with a vector from this encoder; with <paramref name="withText"/>, its cleaned text too.</summary>
    public async Task<IReadOnlyList<(LabelledVector Example, string? Text)>> LabelledAsync(
        string encoder, string version, bool withText, CancellationToken ct) =>
        (await LabelledDocumentsAsync(encoder, version, withText, ct)).Select(r => (r.Example, r.Text)).ToList();

    /// <summary>
    /// Every labelled document with a vector from this encoder; with <paramref name="withText"/> also its cleaned and
    /// raw text and the processed image (relative to the data folder) that the vector was made from.
    /// </summary>
    public async Task<IReadOnlyList<StoredExample>> LabelledDocumentsAsync(string encoder, string version, bool withText, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<LabelledRow>(new CommandDefinition(LabelledSql, new { encoder, version, withText }, cancellationToken: ct));
        return rows.Select(r => new StoredExample(new LabelledVector(r.DocumentId, r.Label, r.Embedding.ToArray()), r.Text, r.RawText, r.ImagePath)).ToList();
    }

    public async Task<IReadOnlyList<SplitAssignment>> SplitAsync(CancellationToken ct)
    {
        const string sql = "SELECT document_id, label, side FROM training.splits ORDER BY document_id";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string DocumentId, short Label, string Side)>(new CommandDefinition(sql, cancellationToken: ct));
        return rows.Select(r => new SplitAssignment(r.DocumentId, r.Label, r.Side)).ToList();
    }

    /// <summary>Stores new assignments; a document assigned meanwhile by another process keeps its side.</summary>
    public async Task AddSplitAsync(IReadOnlyList<SplitAssignment> assignments, int seed, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO training.splits (document_id, side, label, seed) VALUES (@DocumentId, @Side, @Label, @seed)
            ON CONFLICT (document_id) DO NOTHING
            """;
        if (assignments.Count == 0) return;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql,
            assignments.Select(a => new { a.DocumentId, a.Side, Label = (short)a.Label, seed }), tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    private sealed record LabelledRow(string DocumentId, short Label, Vector Embedding, string? Text, string? RawText, string? ImagePath);
}

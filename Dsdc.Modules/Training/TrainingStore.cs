using Dapper;
using Dsdc.Shared.Jobs;
using Npgsql;
using Pgvector;

namespace Dsdc.Training;

/// <summary>A labelled, embedded document as stored: its vector, cleaned and raw text, and processed image path.</summary>
public sealed record StoredExample(LabelledVector Example, string? Text, string? RawText, string? ImagePath)
{
    /// <summary>The page's region features (kind <c>regions</c> of the requested version), when loaded and computed.</summary>
    public float[]? Regions { get; init; }

    /// <summary>The raw text's extra OCR readings (<c>Ocr:ExtraReadings</c>), when loaded and read.</summary>
    public string? RawReadings { get; init; }
}

/// <summary>
/// SQL of the training module: it reads the lineage (newest vector of one encoder per stored document, the effective
/// label: the newest human label over the dataset's) and owns schema <c>training</c> (split, runs, epochs, promotions).
/// </summary>
public sealed partial class TrainingStore(NpgsqlDataSource dataSource)
{
    /// <summary>Key of the advisory lock that keeps training jobs one at a time ("DSDCTRAN").</summary>
    internal const long JobLockKey = 0x4453_4443_5452_414E;

    /// <summary>Runs one training job while no other runs, in any process (<see cref="OneAtATime"/>).</summary>
    public Task<(bool Ran, T Result)> OneJobAtATimeAsync<T>(TimeSpan wait, Func<CancellationToken, Task<T>> body, CancellationToken ct) =>
        OneAtATime.TryRunAsync(dataSource, JobLockKey, wait, body, ct);

    /// <summary>
    /// The stored inputs of the views, joined to a stored document that the query names <c>d</c>
    /// (<c>ingestion.documents</c>): its newest vector of one encoder (<c>@encoder</c>, <c>@version</c>) and the lineage
    /// it was made from, aliased <c>e</c> (vector), <c>t</c> (cleaned and raw text), <c>i</c> (processed page), <c>f</c>
    /// (region features of <c>@regionsVersion</c>); a document without such a vector drops out. Reads only the owners'
    /// published views: embedding.vectors and embedding.features, pipeline.texts and pipeline.images. The query drives
    /// from the documents it wants (training from the labels, the prediction of new documents from the oldest
    /// unpredicted ones), so each reads the vectors of those documents only, through the document index, instead of
    /// ranking every stored vector first (docs/benchmarks.md, "Reading the stored inputs").
    /// </summary>
    public const string StoredInputsOf = """
        CROSS JOIN LATERAL (SELECT v.id, v.document_id, v.embedding, v.processed_text_id, v.processed_image_id FROM embedding.vectors v
              WHERE v.document_id = d.id AND v.encoder = @encoder AND v.encoder_version = @version
              ORDER BY v.created_at DESC, v.id DESC LIMIT 1) e
        LEFT JOIN pipeline.texts t ON t.id = e.processed_text_id
        LEFT JOIN pipeline.images i ON i.id = e.processed_image_id
        LEFT JOIN embedding.features f ON f.document_id = e.document_id AND f.kind = 'regions' AND f.version = @regionsVersion
        """;

    // The label through ingestion.current_labels, the one rule for a document's label; in the order of the ids' bytes, as
    // C# orders them (StringComparer.Ordinal), whatever the database's collation.
    private const string LabelledSql = $"""
        SELECT e.document_id, lb.label, e.id AS vector_id, e.embedding, CASE WHEN @withText THEN t.text END AS text,
               CASE WHEN @withText THEN t.raw_text END AS raw_text, CASE WHEN @withText THEN t.raw_readings END AS raw_readings,
               CASE WHEN @withText THEN i.file_path END AS image_path,
               CASE WHEN @withText THEN f.features END AS regions
        FROM ingestion.current_labels lb
        JOIN ingestion.documents d ON d.id = lb.document_id
        {StoredInputsOf}
        -- A document whose region features the embedding stage gave up on is left out, not waited for.
        WHERE f.features IS NOT NULL OR NOT EXISTS (SELECT 1 FROM embedding.features_given_up g
              WHERE g.document_id = e.document_id AND g.kind = 'regions' AND g.version = @regionsVersion)
        ORDER BY e.document_id COLLATE "C"
        """;

    // The same documents, restricted to the ones a job draws (@ids), in the order of document ids' bytes.
    private const string LabelledOfSql = $"""
        SELECT e.document_id, lb.label, e.id AS vector_id, e.embedding, t.text, t.raw_text, t.raw_readings, i.file_path AS image_path,
               f.features AS regions
        FROM ingestion.current_labels lb
        JOIN ingestion.documents d ON d.id = lb.document_id
        {StoredInputsOf}
        WHERE lb.document_id = ANY(@ids::bpchar[])
          AND (f.features IS NOT NULL OR NOT EXISTS (SELECT 1 FROM embedding.features_given_up g
              WHERE g.document_id = e.document_id AND g.kind = 'regions' AND g.version = @regionsVersion))
        ORDER BY e.document_id COLLATE "C"
        """;

    /// <summary>
    /// Every labelled document with a vector from this encoder; with <paramref name="withText"/> also its cleaned and
    /// raw text and the processed image (relative to the data folder) that the vector was made from. A document whose
    /// region features (of <paramref name="regionsVersion"/>) the embedding stage gave up on is left out.
    /// </summary>
    public async Task<IReadOnlyList<StoredExample>> LabelledDocumentsAsync(string encoder, string version, bool withText, CancellationToken ct,
        string? regionsVersion = null)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<LabelledRow>(new CommandDefinition(LabelledSql,
            new { encoder, version, withText, regionsVersion = regionsVersion ?? "" }, cancellationToken: ct));
        return rows.Select(ToExample).ToList();
    }

    /// <summary>
    /// Every labelled document with a vector from this encoder, with its text, page and region features, one row at a
    /// time in the order of the ids' bytes (ordinal order): a training job reads what it decides from (labels, which inputs
    /// exist, a fingerprint of them) without holding every document's inputs at once, then loads the ones it fits and
    /// scores (<see cref="LabelledDocumentsOfAsync"/>).
    /// </summary>
    public async IAsyncEnumerable<StoredExample> StreamLabelledDocumentsAsync(string encoder, string version, string regionsVersion,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // The server sorts every labelled row before the first arrives: more than the default 30 s at a few hundred thousand.
        var rows = conn.QueryUnbufferedAsync<LabelledRow>(LabelledSql, new { encoder, version, withText = true, regionsVersion }, commandTimeout: 600);
        await foreach (var r in rows.WithCancellation(ct)) yield return ToExample(r);
    }

    /// <summary>The given labelled documents as <see cref="StreamLabelledDocumentsAsync"/> reads them, in ordinal id order;
    /// a document that lost its label or vector since drops out.</summary>
    public async Task<IReadOnlyList<StoredExample>> LabelledDocumentsOfAsync(string encoder, string version, string regionsVersion,
        IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return [];
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<LabelledRow>(new CommandDefinition(LabelledOfSql,
            new { encoder, version, regionsVersion, ids = ids.ToArray() }, cancellationToken: ct));
        return rows.Select(ToExample).ToList();
    }

    private static StoredExample ToExample(LabelledRow r) =>
        new(new LabelledVector(r.DocumentId, r.Label, r.Embedding.ToArray()) { VectorId = r.VectorId }, r.Text, r.RawText, r.ImagePath)
            { Regions = r.Regions?.ToArray(), RawReadings = r.RawReadings };

    public async Task<IReadOnlyList<SplitAssignment>> SplitAsync(CancellationToken ct)
    {
        const string sql = "SELECT document_id, label, side FROM training.splits ORDER BY document_id";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string DocumentId, short Label, string Side)>(new CommandDefinition(sql, cancellationToken: ct));
        return rows.Select(r => new SplitAssignment(r.DocumentId, r.Label, r.Side)).ToList();
    }

    /// <summary>Stores new assignments; a document assigned meanwhile by another process keeps its side, and one no longer
    /// stored (deleted since it was read) gets none.</summary>
    public async Task AddSplitAsync(IReadOnlyList<SplitAssignment> assignments, int seed, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO training.splits (document_id, side, label, seed)
            SELECT @DocumentId, @Side, @Label, @seed WHERE EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = @DocumentId)
            ON CONFLICT (document_id) DO NOTHING
            """;
        if (assignments.Count == 0) return;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql,
            assignments.Select(a => new { a.DocumentId, a.Side, Label = (short)a.Label, seed }), tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    private sealed record LabelledRow(string DocumentId, short Label, long VectorId, Vector Embedding, string? Text, string? RawText, string? RawReadings,
        string? ImagePath, Vector? Regions);
}

using Dapper;
using Dsdc.Ingestion;
using Npgsql;

namespace Dsdc.Inference.Review;

/// <summary>A document waiting for a person's decision, with its latest prediction when it has one.</summary>
/// <remarks>A class, not a record: Npgsql reads real[] as an Array that Dapper's constructor matching refuses.</remarks>
public sealed class ReviewItem
{
    public string DocumentId { get; init; } = "";
    public string OriginalName { get; init; } = "";
    public DateTime IngestedAt { get; init; }
    public long? PredictionId { get; init; }
    public short? Predicted { get; init; }
    public double? TopProbability { get; init; }
    public bool NeedsReview { get; init; }
    public float[]? Probabilities { get; init; }
    public short? CurrentLabel { get; init; }
    public string? LabelSource { get; init; }

    /// <summary>The current label's row (labels are never changed: with <see cref="CurrentLabel"/>, its version).</summary>
    public long? LabelId { get; init; }

    public long Total { get; init; }

    /// <summary>
    /// The <paramref name="n"/> most probable classes of the latest prediction, most probable first; only classes the
    /// model could predict (probability above 0): a model that knows two classes offers two, not a third at 0%.
    /// </summary>
    public IReadOnlyList<(int Label, float Probability)> Top(int n) =>
        Probabilities is null ? [] : Probabilities.Select((p, i) => (i, p)).Where(x => x.p > 0).OrderByDescending(x => x.p).ThenBy(x => x.i).Take(n).ToList();
}

/// <summary>
/// The review queue: stored documents whose latest prediction needs review, or that have no label, and that no person
/// labelled since that prediction. Most useful first: each predicted class in turn (round robin over the classes, so one
/// crowded class does not fill the page), its most certain prediction first while the class has fewer than
/// <see cref="TypicalFirstBelow"/> labelled documents and its least certain first after; then documents never
/// predicted, oldest first.
/// </summary>
/// <remarks>
/// Reads <c>inference.latest_predictions</c> (each document's latest prediction, kept by a trigger on
/// <c>inference.predictions</c>): a page takes at most <c>take</c> documents of each class through an index on
/// (label, top_probability), and looks for documents never predicted only when the predicted ones do not fill it, so a
/// page load does not grow with the documents stored; only the count of waiting documents does (one pass over the
/// documents, no join per document).
/// </remarks>
public sealed class ReviewQueue(NpgsqlDataSource dataSource)
{
    /// <summary>The number of documents in the queue: every unlabelled document, and the labelled ones whose latest
    /// prediction needs review unless a person labelled them since.</summary>
    private const string CountSql = $"""
        SELECT (SELECT count(*) FROM ingestion.documents)
             - (SELECT count(*) FROM {CurrentLabel.View} c JOIN ingestion.documents d ON d.id = c.document_id)
             + (SELECT count(*) FROM {CurrentLabel.View} c
                JOIN inference.latest_predictions lp ON lp.document_id = c.document_id AND lp.needs_review
                JOIN ingestion.documents d ON d.id = c.document_id
                WHERE NOT (c.source = 'human' AND c.created_at >= lp.created_at))
        """;

    internal const string Columns = """
        q.document_id, d.original_name, d.ingested_at, q.prediction_id, q.predicted, q.top_probability, q.needs_review,
        p.probabilities, cl.label AS current_label, cl.source AS label_source, cl.id AS label_id, @total AS total
        """;

    /// <summary>A class with fewer labelled documents than this offers its most certain documents first, its least certain
    /// after (docs/benchmarks.md, "Which documents to label first").</summary>
    public const int TypicalFirstBelow = 3;

    /// <summary>The documents of class <c>t.label</c> in the queue (each branch below adds its order).</summary>
    private const string ClassMembers = $$"""
        SELECT lp.document_id, lp.prediction_id, lp.label AS predicted, lp.top_probability, lp.needs_review
        FROM inference.latest_predictions lp
        JOIN ingestion.documents d ON d.id = lp.document_id
        LEFT {{CurrentLabel.JoinOnDocument}}
        WHERE lp.label = t.label
          AND (cl.label IS NULL OR lp.needs_review)
          -- a person labelled it since the prediction: the current label is then that human label
          AND NOT coalesce(cl.source = 'human' AND cl.created_at >= lp.created_at, false)
        """;

    /// <summary>
    /// Up to <c>@take</c> documents of each class in the queue, numbered within their class: the most certain first while
    /// the class has fewer than <see cref="TypicalFirstBelow"/> labelled documents (its typical pages teach a model that
    /// barely knows it the most), the least certain first after (where the model now errs).
    /// </summary>
    internal const string PredictedSql = $$"""
        -- Each class's direction, computed once: left to the planner, the label count is inlined into a subplan run per row.
        WITH classes AS MATERIALIZED (
            SELECT k.label, coalesce(l.n, 0) < @typicalFirstBelow AS typical_first
            FROM generate_series(0, @lastClass) AS k(label)
            LEFT JOIN (SELECT c.label, count(*) AS n
                       FROM {{CurrentLabel.View}} c JOIN ingestion.documents d ON d.id = c.document_id
                       GROUP BY c.label) l ON l.label = k.label),
        predicted AS (
            SELECT m.*, row_number() OVER (PARTITION BY m.predicted
                       ORDER BY CASE WHEN t.typical_first THEN -m.top_probability ELSE m.top_probability END,
                                CASE WHEN t.typical_first THEN m.document_id END DESC, m.document_id) AS turn
            FROM classes t
            CROSS JOIN LATERAL (
                ({{ClassMembers}} AND t.typical_first
                 ORDER BY lp.top_probability DESC, lp.document_id DESC LIMIT @take)
                UNION ALL
                ({{ClassMembers}} AND NOT t.typical_first
                 ORDER BY lp.top_probability, lp.document_id LIMIT @take)) m)
        SELECT {{Columns}}
        FROM predicted q
        JOIN ingestion.documents d ON d.id = q.document_id
        JOIN inference.predictions p ON p.id = q.prediction_id
        LEFT {{CurrentLabel.JoinOnDocument}}
        ORDER BY q.turn, q.top_probability, d.ingested_at, q.document_id
        LIMIT @take
        """;

    /// <summary>The oldest unlabelled documents that were never predicted.</summary>
    private const string UnpredictedSql = $"""
        SELECT {Columns}
        FROM (SELECT d.id AS document_id, NULL::bigint AS prediction_id, NULL::smallint AS predicted,
                     NULL::double precision AS top_probability, false AS needs_review
              FROM ingestion.documents d
              WHERE NOT EXISTS (SELECT 1 FROM {CurrentLabel.View} c WHERE c.document_id = d.id)
                AND NOT EXISTS (SELECT 1 FROM inference.latest_predictions lp WHERE lp.document_id = d.id)
              ORDER BY d.ingested_at, d.id
              LIMIT @take) q
        JOIN ingestion.documents d ON d.id = q.document_id
        LEFT JOIN inference.predictions p ON false  -- no prediction: the shared column list reads null probabilities
        LEFT {CurrentLabel.JoinOnDocument}
        ORDER BY d.ingested_at, q.document_id
        """;

    /// <summary>The parameters of <see cref="PredictedSql"/>.</summary>
    internal static object PredictedParameters(int take, long total) =>
        new { take, total, lastClass = Shared.DocumentClasses.Count - 1, typicalFirstBelow = TypicalFirstBelow };

    /// <summary>How many documents wait in the queue (what <see cref="NextAsync"/> reads as <see cref="ReviewItem.Total"/>).</summary>
    public async Task<long> CountAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(CountSql, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<ReviewItem>> NextAsync(int take, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition(CountSql, cancellationToken: ct));
        var items = (await conn.QueryAsync<ReviewItem>(new CommandDefinition(PredictedSql, PredictedParameters(take, total), cancellationToken: ct))).AsList();
        if (items.Count < take)
            items.AddRange(await conn.QueryAsync<ReviewItem>(new CommandDefinition(UnpredictedSql, new { take = take - items.Count, total }, cancellationToken: ct)));
        return items;
    }

    /// <summary>A prediction the reviewer was shown: its document, class and when it was made.</summary>
    public sealed record ShownPrediction(string DocumentId, int Label, DateTime PredictedAt);

    /// <summary>
    /// For bulk confirmation: each prediction the reviewer was shown (document id and prediction id, as the page listed
    /// them), not whichever is newest when the form arrives. A document a person labelled after that prediction was made
    /// is left out: the confirmation would overwrite a colleague's label with a class nobody chose (the confirmation
    /// itself checks again under the document's lock, <see cref="Api.PredictionStore.ConfirmAsync"/>).
    /// </summary>
    public async Task<IReadOnlyList<ShownPrediction>> ShownPredictionsAsync(IReadOnlyCollection<(string DocumentId, long PredictionId)> shown,
        CancellationToken ct)
    {
        const string sql = $"""
            SELECT p.document_id, p.label, p.created_at
            FROM unnest(@ids, @predictions) AS s(document_id, prediction_id)
            JOIN inference.predictions p ON p.id = s.prediction_id AND p.document_id = s.document_id
            WHERE NOT EXISTS (SELECT 1 FROM {CurrentLabel.View} l
                              WHERE l.document_id = p.document_id AND l.source = 'human' AND l.created_at > p.created_at)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string DocumentId, short Label, DateTime CreatedAt)>(new CommandDefinition(sql,
            new { ids = shown.Select(s => s.DocumentId).ToArray(), predictions = shown.Select(s => s.PredictionId).ToArray() }, cancellationToken: ct));
        return rows.Select(r => new ShownPrediction(r.DocumentId.Trim(), r.Label, r.CreatedAt)).ToList();
    }

    /// <summary>The class of each shown prediction (<see cref="ShownPredictionsAsync"/>) by document.</summary>
    public async Task<IReadOnlyDictionary<string, int>> ShownPredictedClassesAsync(IReadOnlyCollection<(string DocumentId, long PredictionId)> shown,
        CancellationToken ct) =>
        (await ShownPredictionsAsync(shown, ct)).ToDictionary(p => p.DocumentId, p => p.Label);

    /// <summary>The class of each document's latest prediction (documents never predicted are left out).</summary>
    public async Task<IReadOnlyDictionary<string, int>> PredictedClassesAsync(IReadOnlyCollection<string> documentIds, CancellationToken ct)
    {
        const string sql = "SELECT document_id, label FROM inference.latest_predictions WHERE document_id = ANY(@ids)";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string DocumentId, short Label)>(new CommandDefinition(sql, new { ids = documentIds.ToArray() }, cancellationToken: ct));
        return rows.ToDictionary(r => r.DocumentId.Trim(), r => (int)r.Label);
    }
}

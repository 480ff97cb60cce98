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
    public long Total { get; init; }

    /// <summary>The <paramref name="n"/> most probable classes of the latest prediction, most probable first.</summary>
    public IReadOnlyList<(int Label, float Probability)> Top(int n) =>
        Probabilities is null ? [] : Probabilities.Select((p, i) => (i, p)).OrderByDescending(x => x.p).ThenBy(x => x.i).Take(n).ToList();
}

/// <summary>
/// The review queue: stored documents whose latest prediction needs review, or that have no label, and that no person
/// labelled since that prediction. Most useful first: the least certain prediction of each predicted class in turn (round
/// robin over the classes, so one crowded class does not fill the page), then documents never predicted, oldest first.
/// </summary>
public sealed class ReviewQueue(NpgsqlDataSource dataSource)
{
    private const string LatestPredictions = """
        SELECT DISTINCT ON (document_id) document_id, id, label, top_probability, needs_review, probabilities, created_at
        FROM inference.predictions ORDER BY document_id, created_at DESC, id DESC
        """;

    public async Task<IReadOnlyList<ReviewItem>> NextAsync(int take, CancellationToken ct)
    {
        const string sql = $"""
            WITH latest AS ({LatestPredictions}),
            queue AS (
                SELECT d.id AS document_id, d.original_name, d.ingested_at, p.id AS prediction_id, p.label AS predicted,
                       p.top_probability, coalesce(p.needs_review, false) AS needs_review, p.probabilities,
                       cl.label AS current_label, cl.source AS label_source
                FROM ingestion.documents d
                LEFT JOIN latest p ON p.document_id = d.id
                LEFT {CurrentLabel.JoinOnDocument}
                WHERE (cl.label IS NULL OR p.needs_review)
                  -- a person labelled it since the prediction: the current label is then that human label
                  AND NOT coalesce(cl.source = 'human' AND cl.created_at >= p.created_at, false))
            SELECT r.*, count(*) OVER () AS total
            FROM (SELECT q.*, row_number() OVER (PARTITION BY q.predicted ORDER BY q.top_probability, q.document_id) AS turn FROM queue q) r
            ORDER BY (r.predicted IS NULL), CASE WHEN r.predicted IS NULL THEN 0 ELSE r.turn END, r.top_probability, r.ingested_at, r.document_id
            LIMIT @take
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<ReviewItem>(new CommandDefinition(sql, new { take }, cancellationToken: ct))).AsList();
    }

    /// <summary>The class of each document's latest prediction (documents never predicted are left out).</summary>
    public async Task<IReadOnlyDictionary<string, int>> PredictedClassesAsync(IReadOnlyCollection<string> documentIds, CancellationToken ct)
    {
        const string sql = $"SELECT document_id, label FROM ({LatestPredictions}) p WHERE document_id = ANY(@ids)";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string DocumentId, short Label)>(new CommandDefinition(sql, new { ids = documentIds.ToArray() }, cancellationToken: ct));
        return rows.ToDictionary(r => r.DocumentId.Trim(), r => (int)r.Label);
    }
}

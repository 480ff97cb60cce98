using Dapper;
using Dsdc.Ingestion;
using Npgsql;

namespace Dsdc.Inference.Api;

public sealed record PredictionRow(long Id, string DocumentId, string UserName, string ModelId, short Label, double Confidence, DateTime CreatedAt);

/// <summary>A recorded prediction (a class: Npgsql reads real[] as an Array that Dapper's constructor matching refuses).</summary>
public sealed class PredictionDetail
{
    public long Id { get; init; }
    public string DocumentId { get; init; } = "";
    public string UserName { get; init; } = "";
    public string ModelId { get; init; } = "";
    public long? ModelRunId { get; init; }
    public bool NeedsReview { get; init; }

    /// <summary>The served model's review threshold when it answered (1: no confidence reached the target accuracy);
    /// null for the zero-shot model and for predictions recorded before thresholds were.</summary>
    public double? ReviewThreshold { get; init; }
    public short Label { get; init; }
    public double Confidence { get; init; }
    public double TopProbability { get; init; }
    public float[] Probabilities { get; init; } = [];
    public int DurationMs { get; init; }
    public DateTime CreatedAt { get; init; }
}

/// <summary>The newest prediction of a document: its class and confidence.</summary>
public sealed record LatestPrediction(string DocumentId, short Label, double Confidence);

/// <summary>SQL of the prediction API: the record of every prediction; corrections go to the Ingestion module as human labels.</summary>
public sealed class PredictionStore(NpgsqlDataSource dataSource, DocumentStore documents, LabelledClasses? labelled = null)
{
    public async Task<long> RecordAsync(string documentId, string userName, Classification c, int durationMs, CancellationToken ct) =>
        (await InsertAsync(documentId, userName, c, durationMs, onlyIfUnlabelled: false, ct))!.Value;

    /// <summary>
    /// As <see cref="RecordAsync"/>, for the recurring prediction of unlabelled documents: nothing is recorded when the
    /// document got a label since it was read (a reviewer labelled it meanwhile), which would otherwise put it back in
    /// the review queue with a prediction newer than its label; nor when it is no longer stored (deleted meanwhile). Null
    /// when nothing was recorded.
    /// </summary>
    public Task<long?> RecordIfUnlabelledAsync(string documentId, string userName, Classification c, int durationMs, CancellationToken ct) =>
        InsertAsync(documentId, userName, c, durationMs, onlyIfUnlabelled: true, ct);

    private async Task<long?> InsertAsync(string documentId, string userName, Classification c, int durationMs, bool onlyIfUnlabelled, CancellationToken ct)
    {
        const string sql = $"""
            INSERT INTO inference.predictions
                (document_id, user_name, model_run_id, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review,
                 review_threshold)
            SELECT @documentId, @userName, @ModelRunId, @ModelId, @Label, @Confidence, @TopProbability, @Probabilities, @durationMs, @NeedsReview,
                   @ReviewThreshold
            WHERE NOT @onlyIfUnlabelled OR (NOT EXISTS (SELECT 1 FROM {CurrentLabel.View} l WHERE l.document_id = @documentId)
                                            AND EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = @documentId))
            RETURNING id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long?>(new CommandDefinition(sql, new
        {
            documentId, userName, c.ModelRunId, c.ModelId, Label = (short)c.Label, c.Confidence, c.TopProbability,
            Probabilities = c.Probabilities.ToArray(), durationMs, c.NeedsReview, c.ReviewThreshold, onlyIfUnlabelled,
        }, cancellationToken: ct));
    }

    /// <summary>The columns of <see cref="PredictionDetail"/>.</summary>
    private const string DetailColumns = """
        id, document_id, user_name, model_id, model_run_id, label, confidence, top_probability, probabilities, duration_ms, created_at,
        needs_review, review_threshold
        """;

    /// <summary>A recorded prediction of a stored document (null as well while its document is being deleted).</summary>
    public async Task<PredictionDetail?> FindAsync(long id, CancellationToken ct)
    {
        const string sql = $"""
            SELECT {DetailColumns} FROM inference.predictions p
            WHERE id = @id AND EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = p.document_id)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<PredictionDetail>(new CommandDefinition(sql, new { id }, cancellationToken: ct));
    }

    /// <summary>The newest prediction of each of these documents that has one.</summary>
    public async Task<IReadOnlyList<LatestPrediction>> LatestAsync(IReadOnlyCollection<string> documentIds, CancellationToken ct)
    {
        if (documentIds.Count == 0) return [];
        const string sql = """
            SELECT DISTINCT ON (document_id) document_id, label, confidence
            FROM inference.predictions WHERE document_id = ANY(@ids)
            ORDER BY document_id, created_at DESC, id DESC
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<LatestPrediction>(new CommandDefinition(sql, new { ids = documentIds.ToArray() }, cancellationToken: ct))).AsList();
    }

    public async Task<IReadOnlyList<PredictionRow>> ForDocumentAsync(string documentId, CancellationToken ct)
    {
        const string sql = """
            SELECT id, document_id, user_name, model_id, label, confidence, created_at
            FROM inference.predictions WHERE document_id = @documentId ORDER BY created_at DESC, id DESC LIMIT 50
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<PredictionRow>(new CommandDefinition(sql, new { documentId }, cancellationToken: ct))).AsList();
    }

    /// <summary>Whether a stored document has this id (asked of the Ingestion module).</summary>
    public Task<bool> DocumentExistsAsync(string documentId, CancellationToken ct) => documents.DocumentExistsAsync(documentId, ct);

    /// <summary>A person confirming the class a prediction made at <paramref name="predictedAt"/> gave, unless a person
    /// labelled the document since (the Ingestion module checks and writes under the document's lock). Says what was written
    /// and the current label the check saw.
    /// The prediction page's correction passes the time of the person's label it showed instead (or
    /// <see cref="DateTime.MinValue"/> when it showed none), so a colleague's newer label is not written over unseen.</summary>
    /// <param name="refreshServing">false for one of many confirmations, after which the caller calls
    /// <see cref="LabelsChangedAsync"/> once.</param>
    public async Task<GuardedLabel> ConfirmAsync(string documentId, int label, DateTime predictedAt, string userName, CancellationToken ct,
        bool refreshServing = true)
    {
        var result = await documents.AddHumanLabelIfAsync(documentId, label, userName, DocumentStore.NobodyLabelledSince(predictedAt), ct);
        if (refreshServing && ChangesLabelledClasses(result, label)) await LabelsChangedAsync();
        return result;
    }

    /// <summary>Whether the label written may change the classes served (<see cref="LabelledClasses"/>): it took the document
    /// from one class to another (which can leave a class without labels), or gave a class the served model does not see
    /// labelled a document again (a first label on a document nobody had labelled).</summary>
    private bool ChangesLabelledClasses(GuardedLabel result, int label) =>
        result.Written is not null
        && (result.Current is { } previous ? previous.Label != label : labelled?.Current is { } known && !known.Contains(label));

    /// <summary>A correction: stored by the Ingestion module as a human label, which wins over the dataset label in the next
    /// training run; a class it took the last label from is no longer predicted from now on.</summary>
    /// <exception cref="KeyNotFoundException">no document has this id.</exception>
    public async Task<HumanLabel> AddHumanLabelAsync(string documentId, int label, string userName, CancellationToken ct) =>
        (await AddHumanLabelIfAsync(documentId, label, userName, _ => true, ct)).Written
        ?? throw new KeyNotFoundException($"No document has the id '{documentId}'.");

    /// <summary>A correction written only while the document's current label passes <paramref name="expected"/> (a client's
    /// <c>If-Match</c> or <c>If-None-Match</c>, checked under the document's lock: <see cref="DocumentStore.AddHumanLabelIfAsync"/>).
    /// Says whether the document is known, the label written (null when the check failed) and the current label the check saw.</summary>
    public async Task<GuardedLabel> AddHumanLabelIfAsync(string documentId, int label, string userName,
        Func<LabelEntry?, bool> expected, CancellationToken ct)
    {
        var result = await documents.AddHumanLabelIfAsync(documentId, label, userName, expected, ct);
        if (ChangesLabelledClasses(result, label)) await LabelsChangedAsync();
        return result;
    }

    /// <summary>The newest prediction recorded for a document (the one <c>inference.latest_predictions</c> keeps), or null
    /// when it has none.</summary>
    public async Task<PredictionDetail?> LatestForDocumentAsync(string documentId, CancellationToken ct)
    {
        const string sql = $"""
            SELECT {DetailColumns} FROM inference.predictions
            WHERE id = (SELECT prediction_id FROM inference.latest_predictions WHERE document_id = @documentId)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<PredictionDetail>(new CommandDefinition(sql, new { documentId }, cancellationToken: ct));
    }

    /// <summary>After labels were written that moved documents from one class to another (only those can leave a class
    /// without labels): the labelled classes are read again for serving (not cancelled with the request: the labels are
    /// written whatever follows), and a failure to read them keeps the last ones (<see cref="LabelledClasses.RefreshAsync"/>
    /// says so in the log).</summary>
    public Task LabelsChangedAsync() => labelled?.RefreshAsync(CancellationToken.None) ?? Task.CompletedTask;
}

using Dapper;
using Dsdc.Embedding;
using Dsdc.Ingestion;
using Dsdc.Inference.Api;
using Dsdc.Monitoring;
using Dsdc.Pipeline;
using Dsdc.Shared.Jobs;
using Dsdc.Training;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector;

namespace Dsdc.Inference.Review;

/// <summary>
/// Predicts the stored documents that nobody has labelled and that the served model has not predicted yet: documents
/// from the inbox or a bulk upload. It runs the last step only, on the inputs the pipeline stored (vector, raw text,
/// processed page, region features; no OCR), and records each prediction as the API does (user <see cref="UserName"/>,
/// with <c>needsReview</c>), so the review queue orders the whole inbox by confidence. A new champion re-predicts them
/// once, after the documents that have no prediction yet. A recurring job (<see cref="InferenceOptions.PredictNewDocumentsCron"/>); one run at a time (an advisory lock).
/// </summary>
public sealed partial class NewDocumentPredictions(
    NpgsqlDataSource dataSource,
    IDocumentClassifier classifier,
    ModelRegistry registry,
    PredictionStore predictions,
    PageInputsLoader pages,
    IDocumentEncoder encoder,
    DocumentProcessor processor,
    IOptions<InferenceOptions> options,
    ILogger<NewDocumentPredictions> logger)
{
    public const string RecurringId = "predict-new-documents";

    /// <summary>Who the recorded predictions are by: a name no person can have.</summary>
    public const string UserName = Dsdc.Auth.Usernames.Software;

    private const long LockKey = 0x_D5DC_0E1D;

    /// <summary>How long a document whose stored inputs could not be read is passed over before it is tried again.</summary>
    public static readonly TimeSpan RetryUnreadableAfter = TimeSpan.FromHours(1);

    /// <summary>The documents a model could not read the stored inputs of, and when: passed over by the next runs (they come
    /// first in the order, and a run of a few documents would otherwise meet only them), then tried again.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Model, string Document), DateTime> _unreadable = new();

    // The stored inputs as training reads them; writes only inference.predictions (through PredictionStore).
    private const string PendingFrom = $"""
        SELECT e.document_id, e.embedding, t.raw_text, t.raw_readings, i.file_path AS image_path, f.features AS regions
        FROM ingestion.documents d
        {TrainingStore.StoredInputsOf}
        WHERE NOT EXISTS (SELECT 1 FROM {CurrentLabel.View} l WHERE l.document_id = d.id)
          AND (NOT @needsRegions OR f.features IS NOT NULL)
          AND NOT (d.id = ANY(@passedOver))
        """;

    private const string PendingOrder = """

        ORDER BY d.ingested_at, d.id
        LIMIT @limit
        """;

    // The documents never predicted (new arrivals) come first ...
    private const string NeverPredictedSql = PendingFrom + """
          AND NOT EXISTS (SELECT 1 FROM inference.latest_predictions lp WHERE lp.document_id = d.id)
        """ + PendingOrder;

    // ... then those whose latest prediction is another model's (a new champion, a rollback): once per served model.
    private const string PredictedByAnotherSql = PendingFrom + """
          AND EXISTS (SELECT 1 FROM inference.latest_predictions lp JOIN inference.predictions p ON p.id = lp.prediction_id
                      WHERE lp.document_id = d.id AND p.model_id <> @modelId)
        """ + PendingOrder;

    private static readonly string[] PendingQueries = [NeverPredictedSql, PredictedByAnotherSql];

    /// <summary>Replaced answers of this job deleted per run at most: a short statement, whatever the backlog.</summary>
    public const int PruneBatch = 5000;

    // This job's answers that a newer prediction of their document replaced more than the days kept ago (so never the
    // document's latest, and never one a reviewer may still have on screen from the last days); predictions by other
    // users are never among them. The candidates through the partial index on this user's rows by age (sql/0025): an
    // answer replaced that long ago is at least that old; the newer one through the document's index.
    private const string PruneReplacedSql = $"""
        DELETE FROM inference.predictions
        WHERE id = ANY(ARRAY(SELECT p.id FROM inference.predictions p
                     WHERE p.user_name = '{UserName}' AND p.created_at < now() - make_interval(days => @days)
                       AND EXISTS (SELECT 1 FROM inference.predictions n
                                   WHERE n.document_id = p.document_id AND (n.created_at, n.id) > (p.created_at, p.id)
                                     AND n.created_at < now() - make_interval(days => @days))
                     ORDER BY p.created_at
                     LIMIT @limit))
        """;

    /// <summary>How often each process running the job looks for replaced answers to delete while it finds fewer than a
    /// batch: the look walks every answer of the job older than the days kept (0.5-0.9 s at 100,000 unlabelled
    /// documents, docs/benchmarks.md).</summary>
    public static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);

    private DateTime _nextPrune = DateTime.MinValue;

    /// <summary>The next run looks for replaced answers whenever the last look was (for tests).</summary>
    internal void LookForReplacedAtNextRun() => _nextPrune = DateTime.MinValue;

    /// <summary>Predicts up to <paramref name="maxDocuments"/> documents; returns how many predictions were recorded.</summary>
    [Queue(JobQueues.Default)]
    [AutomaticRetry(Attempts = 3)]
    public async Task<int> PredictAsync(int maxDocuments, CancellationToken ct)
    {
        if (!classifier.CanClassify) return 0;
        var (ran, recorded) = await OneAtATime.TryRunAsync(dataSource, LockKey, TimeSpan.Zero, c => PredictLockedAsync(maxDocuments, c), ct);
        if (!ran) LogBusy();
        return recorded;
    }

    private async Task<int> PredictLockedAsync(int maxDocuments, CancellationToken ct)
    {
        // Any process may run this job; only one serving the registry's champion may answer for it (a worker that has
        // not loaded it yet, or cannot, would otherwise replace every prediction with its stand-in's, and the next
        // process back again).
        var champion = await registry.ChampionRunIdAsync(ct);
        if (classifier.ModelRunId != champion)
        {
            try
            {
                await classifier.ReloadAsync(ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCannotServe(champion, ex.Message);
                return 0;
            }
        }
        // One model for the whole batch, held: a promotion meanwhile cannot ask for inputs the query did not select.
        using var serving = classifier.Acquire();
        if (serving.RunId != champion)
        {
            LogCannotServe(champion, $"this process serves {serving.ModelId}");
            return 0;
        }
        var now = DateTime.UtcNow;
        foreach (var stale in _unreadable.Where(u => now - u.Value >= RetryUnreadableAfter).Select(u => u.Key).ToList())
            _unreadable.TryRemove(stale, out _);
        var passedOver = _unreadable.Keys.Where(k => k.Model == serving.ModelId).Select(k => k.Document).ToArray();
        // New arrivals first: after a champion change every unlabelled document waits to be predicted again (100,000 of
        // them take hours at the default batch), and a document nobody has an answer for is not held up behind them.
        var rows = new List<PendingRow>();
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
            foreach (var sql in PendingQueries)
            {
                if (rows.Count >= maxDocuments) break;
                rows.AddRange(await conn.QueryAsync<PendingRow>(new CommandDefinition(sql, new
                {
                    encoder = encoder.Id, version = encoder.Version, regionsVersion = processor.RegionsVersion,
                    needsRegions = serving.ReadsRegions, modelId = serving.ModelId, limit = maxDocuments - rows.Count, passedOver,
                }, cancellationToken: ct)));
            }
        var recorded = 0;
        var unreadable = new List<Exception>();
        foreach (var row in rows)
        {
            ct.ThrowIfCancellationRequested();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var documentId = row.DocumentId.Trim();
            Classification c;
            try
            {
                var page = pages.Load(row.Embedding.ToArray(), row.RawText, row.ImagePath, row.Regions?.ToArray(), row.RawReadings);
                c = serving.Classify(page);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or NoModelException))
            {
                // (Nothing serving, the zero-shot model not built: the job fails, says why and is tried again.)
                // One document whose stored inputs cannot be read (its processed page damaged on disk) is passed over:
                // failing the job for it would leave every newer document unpredicted, since it comes first each time.
                LogUnreadable(documentId, ex.Message);
                unreadable.Add(ex);
                _unreadable[(serving.ModelId, documentId)] = now;
                continue;
            }
            // A document labelled meanwhile is left alone.
            if (await predictions.RecordIfUnlabelledAsync(documentId, UserName, c, (int)watch.ElapsedMilliseconds, ct) is not null)
            {
                recorded++;
                DsdcMetrics.RecordStoredDocumentPrediction(c.Label, c.NeedsReview);
            }
        }
        if (recorded > 0) LogPredicted(recorded, serving.ModelId);
        if (DateTime.UtcNow >= _nextPrune)
            _nextPrune = await PruneReplacedAsync(ct) == PruneBatch ? DateTime.UtcNow : DateTime.UtcNow + PruneEvery;
        // Several documents failing and none answered is not one damaged page but the model or the machine (out of
        // memory, the runtime): the job fails, so that it says so and Hangfire tries it again.
        if (recorded == 0 && unreadable.Count > 1)
            throw new AggregateException($"None of {rows.Count} new documents could be predicted", unreadable.Take(3));
        return recorded;
    }

    /// <summary>Deletes up to <see cref="PruneBatch"/> of this job's answers replaced more than
    /// <see cref="InferenceOptions.KeepReplacedPredictionsDays"/> ago; returns how many.</summary>
    internal async Task<int> PruneReplacedAsync(CancellationToken ct)
    {
        var days = options.Value.KeepReplacedPredictionsDays;
        if (days == 0) return 0;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var deleted = await conn.ExecuteAsync(new CommandDefinition(PruneReplacedSql, new { days, limit = PruneBatch }, cancellationToken: ct));
        if (deleted > 0) LogPruned(deleted, days);
        return deleted;
    }

    private sealed record PendingRow(string DocumentId, Vector Embedding, string? RawText, string? RawReadings, string? ImagePath, Vector? Regions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Predicted {Count} new document(s) with {Model}")]
    private partial void LogPredicted(int count, string model);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "New documents not predicted here: this process cannot serve the champion (run {RunId}): {Reason}; a process that serves it will")]
    private partial void LogCannotServe(long? runId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} not predicted: its stored inputs cannot be read ({Error}); passed over for an hour")]
    private partial void LogUnreadable(string documentId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} prediction(s) of this job replaced more than {Days} days ago (Inference:KeepReplacedPredictionsDays)")]
    private partial void LogPruned(int count, int days);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Another run is predicting new documents; this one leaves")]
    private partial void LogBusy();
}

/// <summary>Registers (or removes, when disabled) the recurring prediction of new documents at start.</summary>
internal sealed class NewDocumentPredictionsSchedule(RecurringSchedules jobs, IOptions<InferenceOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        jobs.Set<NewDocumentPredictions>(NewDocumentPredictions.RecurringId,
            j => j.PredictAsync(o.PredictNewDocumentsBatch, CancellationToken.None), o.PredictNewDocumentsCron, o.PredictNewDocuments);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

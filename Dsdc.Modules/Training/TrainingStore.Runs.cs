using Dapper;
using Dsdc.Ingestion;

namespace Dsdc.Training;

/// <summary>A training job as recorded: what it read (<see cref="Fingerprint"/>) and how it ended (<c>promoted</c>,
/// <c>trained</c>, <c>partial</c>, <c>failed</c>; <c>skipped</c> ones are not listed as jobs that ran).</summary>
public sealed record JobRecord(long Id, string Fingerprint, string Outcome);

/// <summary>A run as listed: what it trained and how it did. A succeeded run without <see cref="ArtifactPath"/> had its model
/// files removed (<see cref="TrainingOptions.KeepRunFiles"/>).</summary>
public sealed record RunSummary(
    long Id, string Name, string Parameters, string Encoder, string EncoderVersion, int Dimensions, string Status, string? Error,
    int TrainSize, int ValidationSize, int TestSize, int? EpochsRun, int? BestEpoch, double? TestAccuracy, double? TestMacroF1,
    string? ArtifactPath, string Device, string TriggeredBy, DateTime StartedAt, DateTime? FinishedAt, long? DurationMs,
    string Evaluation = "test-split", double? AccuracySd = null, double? MacroF1Sd = null)
{
    /// <summary>Whether the run's model can serve: it succeeded and its files were not removed.</summary>
    public bool HasFiles => Status == "succeeded" && ArtifactPath is not null;

    /// <summary>Whether the run succeeded and its model files were removed since (<see cref="TrainingOptions.KeepRunFiles"/>).</summary>
    public bool FilesRemoved => Status == "succeeded" && ArtifactPath is null;
}
// Evaluation: how the accuracy was measured, cross-validation (mean of repeated k-fold; AccuracySd = sd of the per-fold
// accuracies) or test-split (the stored test side).

/// <summary>The newest training job (null before any), the documents it read, and how many stored documents a label set
/// since it began gave another class than the one they had then (or a first one).</summary>
/// <param name="Classes">How many classes have a labelled document now: a model needs two.</param>
public sealed record NewLabels(long? JobId, int Documents, long Added, int Classes = 2);

public sealed record NewRun(string Name, string Parameters, string Encoder, string EncoderVersion, int Dimensions, int Seed, string Device,
    int TrainSize, int ValidationSize, int TestSize, string TriggeredBy);

public sealed partial class TrainingStore
{
    private const string RunColumns = """
        id, name, parameters::text AS parameters, encoder, encoder_version, dimensions, status, error, train_size, validation_size,
        test_size, epochs_run, best_epoch, test_accuracy, test_macro_f1, artifact_path, device, triggered_by, started_at, finished_at, duration_ms,
        evaluation, accuracy_sd, macro_f1_sd
        """;

    public async Task<long> CreateRunAsync(NewRun run, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO training.runs (name, parameters, encoder, encoder_version, dimensions, seed, device, train_size, validation_size, test_size, triggered_by)
            VALUES (@Name, @Parameters::jsonb, @Encoder, @EncoderVersion, @Dimensions, @Seed, @Device, @TrainSize, @ValidationSize, @TestSize, @TriggeredBy)
            RETURNING id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(sql, run, cancellationToken: ct));
    }

    public async Task AddEpochAsync(long runId, EpochMetrics m, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO training.epochs (run_id, epoch, train_loss, train_accuracy, validation_loss, validation_accuracy, duration_ms)
            VALUES (@runId, @Epoch, @TrainLoss, @TrainAccuracy, @ValidationLoss, @ValidationAccuracy, @DurationMs)
            ON CONFLICT (run_id, epoch) DO NOTHING
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql,
            new { runId, m.Epoch, m.TrainLoss, m.TrainAccuracy, m.ValidationLoss, m.ValidationAccuracy, m.DurationMs }, cancellationToken: ct));
    }

    public async Task CompleteRunAsync(long runId, int epochsRun, int bestEpoch, double testLoss, ClassificationMetrics test, string artifactPath,
        string metricsJson, long durationMs, CancellationToken ct)
    {
        const string sql = """
            UPDATE training.runs SET status = 'succeeded', error = NULL, epochs_run = @epochsRun, best_epoch = @bestEpoch, test_accuracy = @accuracy,
                test_macro_f1 = @macroF1, test_loss = @testLoss, metrics = @metricsJson::jsonb, artifact_path = @artifactPath,
                finished_at = now(), duration_ms = @durationMs
            WHERE id = @runId
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql, new
        {
            runId, epochsRun, bestEpoch, accuracy = test.Accuracy, macroF1 = test.MacroF1, testLoss = double.IsFinite(testLoss) ? testLoss : (double?)null,
            metricsJson, artifactPath, durationMs,
        }, cancellationToken: ct));
    }

    /// <summary>Records a run's cross-validated estimate (mean and spread, the whole estimate as JSON).</summary>
    public async Task SetEstimateAsync(long runId, CvEstimate estimate, string dataFingerprint, CancellationToken ct)
    {
        const string sql = """
            UPDATE training.runs SET evaluation = 'cross-validation', accuracy_sd = @AccuracySd, macro_f1_sd = @MacroF1Sd,
                estimate = @json::jsonb, data_fingerprint = @dataFingerprint
            WHERE id = @runId
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql, new
        {
            runId, estimate.AccuracySd, estimate.MacroF1Sd, json = System.Text.Json.JsonSerializer.Serialize(estimate, ModelManifest.Json), dataFingerprint,
        }, cancellationToken: ct));
    }

    /// <summary>Records what a run scored on the stored test side was fitted on (its train and validation documents).</summary>
    public async Task SetDataFingerprintAsync(long runId, string dataFingerprint, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("UPDATE training.runs SET data_fingerprint = @dataFingerprint WHERE id = @runId",
            new { runId, dataFingerprint }, cancellationToken: ct));
    }

    /// <summary>The run's cross-validated estimate, or null for a run scored on the stored test side.</summary>
    public async Task<CvEstimate?> EstimateAsync(long runId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var json = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT estimate::text FROM training.runs WHERE id = @runId", new { runId }, cancellationToken: ct));
        return json is null ? null : System.Text.Json.JsonSerializer.Deserialize<CvEstimate>(json, ModelManifest.Json);
    }

    /// <summary>What a run's model was fitted on (null for runs that failed or were recorded before it was kept).</summary>
    public async Task<string?> DataFingerprintAsync(long runId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT data_fingerprint FROM training.runs WHERE id = @runId", new { runId }, cancellationToken: ct));
    }

    /// <summary>The newest <paramref name="count"/> jobs that did not skip, newest first.</summary>
    public async Task<IReadOnlyList<JobRecord>> RecentJobsAsync(int count, CancellationToken ct)
    {
        const string sql = "SELECT id, fingerprint, outcome FROM training.jobs WHERE outcome <> 'skipped' ORDER BY id DESC LIMIT @count";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<JobRecord>(new CommandDefinition(sql, new { count }, cancellationToken: ct))).AsList();
    }

    /// <summary>Records a job; <paramref name="startedAt"/> is when it began reading its data, so a label added while it
    /// trained counts as added after it.</summary>
    public async Task AddJobAsync(string fingerprint, int documents, string triggeredBy, string outcome, DateTime startedAt, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO training.jobs (fingerprint, documents, triggered_by, outcome, started_at)
            VALUES (@fingerprint, @documents, @triggeredBy, @outcome, @startedAt)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql, new { fingerprint, documents, triggeredBy, outcome, startedAt }, cancellationToken: ct));
    }

    /// <summary>The database's clock: what label, run and job times are written with.</summary>
    public async Task<DateTime> NowAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<DateTime>(new CommandDefinition("SELECT now()", cancellationToken: ct));
    }

    /// <summary>
    /// When the job that made a run began reading its labels (a job reads them first, then creates each candidate's run
    /// after that candidate's cross-validation, minutes later): the start of the newest job that began before the run
    /// (jobs run one at a time), or the run's own start when no job was recorded for it.
    /// </summary>
    public async Task<DateTime> DataReadAtAsync(DateTime runStartedAt, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var job = await conn.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT max(started_at) FROM training.jobs WHERE started_at <= @runStartedAt", new { runStartedAt }, cancellationToken: ct));
        return job ?? runStartedAt;
    }

    /// <summary>The newest job (trained or skipped), if any, and the stored documents a label set after it began gave another
    /// class than the one they had then, or a first one (all labelled documents when no job ran yet): confirmations and
    /// corrections undone change nothing a model learns, and are not counted
    /// (<see cref="IngestionQueries.DocumentsRelabelledSinceAsync"/>, where the Ingestion module applies its label rule).</summary>
    public async Task<NewLabels> LabelsSinceLastJobAsync(CancellationToken ct)
    {
        const string sql = "SELECT id, documents, started_at FROM training.jobs ORDER BY id DESC LIMIT 1";
        LastJob? last;
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
            last = await conn.QuerySingleOrDefaultAsync<LastJob>(new CommandDefinition(sql, cancellationToken: ct));
        var ingestion = new IngestionQueries(dataSource);
        var added = await ingestion.DocumentsRelabelledSinceAsync(last?.StartedAt, ct);
        var classes = (await ingestion.LabelCountsAsync(ct)).Count(c => c.Human + c.Dataset > 0);
        return new NewLabels(last?.Id, last?.Documents ?? 0, added, classes);
    }

    private sealed record LastJob(long Id, int Documents, DateTime StartedAt);

    /// <summary>The error of a run whose job's process stopped before the run ended.</summary>
    public const string InterruptedError = "interrupted: the process running its job stopped before the run ended";

    /// <summary>Marks failed every run still 'running'; only safe under the training lock (no run is live then).</summary>
    public async Task<int> FailInterruptedRunsAsync(CancellationToken ct)
    {
        const string sql = """
            UPDATE training.runs SET status = 'failed', error = @InterruptedError, finished_at = now()
            WHERE status = 'running'
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(sql, new { InterruptedError }, cancellationToken: ct));
    }

    public async Task FailRunAsync(long runId, string error, long durationMs, CancellationToken ct)
    {
        const string sql = """
            UPDATE training.runs SET status = 'failed', error = @error, finished_at = now(), duration_ms = @durationMs WHERE id = @runId
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql, new { runId, error, durationMs }, cancellationToken: ct));
    }

    /// <summary>The newest <paramref name="limit"/> runs, newest first; with <paramref name="before"/>, those older than that run (keyset paging).</summary>
    public async Task<IReadOnlyList<RunSummary>> RunsAsync(int limit, CancellationToken ct, long? before = null)
    {
        const string sql = "SELECT " + RunColumns + " FROM training.runs WHERE @before::bigint IS NULL OR id < @before ORDER BY id DESC LIMIT @limit";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<RunSummary>(new CommandDefinition(sql, new { limit, before }, cancellationToken: ct))).AsList();
    }

    /// <summary>How many runs have each status.</summary>
    public async Task<IReadOnlyDictionary<string, long>> RunCountsAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(string Status, long Count)>(new CommandDefinition(
            "SELECT status, count(*) FROM training.runs GROUP BY status", cancellationToken: ct))).ToDictionary(r => r.Status, r => r.Count);
    }

    public async Task<RunSummary?> RunAsync(long id, CancellationToken ct)
    {
        const string sql = "SELECT " + RunColumns + " FROM training.runs WHERE id = @id";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<RunSummary>(new CommandDefinition(sql, new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<EpochMetrics>> EpochsAsync(long runId, CancellationToken ct)
    {
        const string sql = """
            SELECT epoch, train_loss, train_accuracy, validation_loss, validation_accuracy, duration_ms
            FROM training.epochs WHERE run_id = @runId ORDER BY epoch
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<EpochMetrics>(new CommandDefinition(sql, new { runId }, cancellationToken: ct))).AsList();
    }

    /// <summary>The run's metrics JSON (per-class precision/recall, confusion matrix), or null.</summary>
    public async Task<string?> MetricsJsonAsync(long runId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT metrics::text FROM training.runs WHERE id = @runId", new { runId }, cancellationToken: ct));
    }
}

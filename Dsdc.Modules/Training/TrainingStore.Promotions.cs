using Dapper;

namespace Dsdc.Training;

public sealed record Promotion(long Id, long RunId, long? PreviousRunId, string Kind, string Reason, string PromotedBy, DateTime PromotedAt);

public static class PromotionKinds
{
    public const string Automatic = "automatic";
    public const string Manual = "manual";
    public const string Rollback = "rollback";
}

public sealed partial class TrainingStore
{
    /// <summary>
    /// The champion: the run of the newest promotion, which <see cref="ChampionHistory.Champion"/> of the whole history
    /// always is (a promotion puts its run on top; a rollback's row names the run it returns to, and that run ends on
    /// top). One row by the primary key: every process asks at each reload check and metrics scrape, while the history
    /// grows by a row per job that promotes.
    /// </summary>
    public async Task<long?> ChampionRunIdAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT run_id FROM training.promotions ORDER BY id DESC LIMIT 1", cancellationToken: ct));
    }

    public async Task<IReadOnlyList<Promotion>> PromotionsAsync(CancellationToken ct)
    {
        const string sql = """
            SELECT id, run_id, previous_run_id, kind, reason, promoted_by, promoted_at FROM training.promotions ORDER BY id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<Promotion>(new CommandDefinition(sql, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Marks the model files of the runs older than the newest <paramref name="keep"/>, not newer than
    /// <paramref name="upTo"/> and not kept as a champion (<see cref="KeptChampions"/>) as removed. Returns those runs,
    /// and every run of that age without files that is not running (its folder can go too: one whose removal failed, or
    /// left by a run that failed). Under the promotions' lock, so a run promoted at the same moment keeps its files.
    /// </summary>
    public async Task<(IReadOnlyList<long> Released, IReadOnlyList<long> WithoutFiles)> ReleaseRunFilesAsync(int keep, long upTo, CancellationToken ct,
        int keepChampions = 0)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("LOCK TABLE training.promotions IN EXCLUSIVE MODE", transaction: tx, cancellationToken: ct));
        // Read under the lock, once per job: the runs that keep their files whatever their age.
        var history = (await conn.QueryAsync<Promotion>(new CommandDefinition(
            "SELECT id, run_id, previous_run_id, kind, reason, promoted_by, promoted_at FROM training.promotions ORDER BY id",
            transaction: tx, cancellationToken: ct))).AsList();
        long[] kept = [.. KeptChampions(history, keepChampions)];
        const string old = """
            r.id < (SELECT min(id) FROM (SELECT id FROM training.runs ORDER BY id DESC LIMIT @keep) newest) AND r.id <= @upTo
              AND NOT (r.id = ANY(@kept))
            """;
        var released = (await conn.QueryAsync<long>(new CommandDefinition(
            $"UPDATE training.runs r SET artifact_path = NULL WHERE r.artifact_path IS NOT NULL AND {old} RETURNING r.id",
            new { keep, upTo, kept }, tx, cancellationToken: ct))).AsList();
        var withoutFiles = (await conn.QueryAsync<long>(new CommandDefinition(
            $"SELECT r.id FROM training.runs r WHERE r.artifact_path IS NULL AND r.status <> 'running' AND {old} ORDER BY r.id",
            new { keep, upTo, kept }, tx, cancellationToken: ct))).AsList();
        // The training sets go with their runs' files (migration 0022): a set stays while a run fitted on it keeps its
        // files, or is still running, or it is younger than a day (a job records its set before its runs start).
        await conn.ExecuteAsync(new CommandDefinition("""
            DELETE FROM training.datasets s
            WHERE NOT EXISTS (SELECT 1 FROM training.runs r WHERE r.dataset_id = s.id AND (r.artifact_path IS NOT NULL OR r.status = 'running'))
              AND (EXISTS (SELECT 1 FROM training.runs r WHERE r.dataset_id = s.id) OR s.created_at < now() - interval '1 day')
            """, transaction: tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (released, withoutFiles);
    }

    /// <summary>
    /// The promoted runs that keep their model files: with <paramref name="keepChampions"/> above 0, the runs the newest
    /// that many promotions name (each champion and the run it replaced) and the top that many of the champions' stack
    /// (the champion and what a series of rollbacks returns to, whatever rows named them); 0: every run any promotion names.
    /// </summary>
    internal static IEnumerable<long> KeptChampions(IReadOnlyList<Promotion> history, int keepChampions)
    {
        var rows = keepChampions > 0 ? history.TakeLast(keepChampions) : history;
        var named = rows.SelectMany(p => p.PreviousRunId is { } previous ? new[] { p.RunId, previous } : [p.RunId]);
        return (keepChampions > 0 ? named.Concat(ChampionHistory.Stack(history).TakeLast(keepChampions)) : named).Distinct();
    }

    /// <summary>
    /// Records a promotion if the champion is still <paramref name="expectedChampion"/> and the run still has its model
    /// files (both checked under a lock, so two processes promoting at once cannot both win, and a run whose files are
    /// being removed is not promoted); null when recorded, otherwise why not.
    /// </summary>
    public async Task<string?> AddPromotionAsync(long runId, long? expectedChampion, string kind, string reason, string promotedBy, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("LOCK TABLE training.promotions IN EXCLUSIVE MODE", transaction: tx, cancellationToken: ct));
        var history = (await conn.QueryAsync<Promotion>(new CommandDefinition(
            "SELECT id, run_id, previous_run_id, kind, reason, promoted_by, promoted_at FROM training.promotions ORDER BY id",
            transaction: tx, cancellationToken: ct))).AsList();
        if (ChampionHistory.Champion(history) != expectedChampion) return "the champion changed meanwhile; try again";
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM training.runs WHERE id = @runId AND artifact_path IS NOT NULL)", new { runId }, tx, cancellationToken: ct)))
            return $"run {runId}'s model files were removed meanwhile (Training:KeepRunFiles, Training:KeepChampionFiles)";
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO training.promotions (run_id, previous_run_id, kind, reason, promoted_by)
            VALUES (@runId, @expectedChampion, @kind, @reason, @promotedBy)
            """, new { runId, expectedChampion, kind, reason, promotedBy }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return null;
    }
}

/// <summary>
/// The champion from the promotion history, read as a stack: a promotion pushes its run, a rollback pops back to the
/// run that was champion before; so repeated rollbacks walk further back instead of toggling between two runs.
/// </summary>
public static class ChampionHistory
{
    public static IReadOnlyList<long> Stack(IEnumerable<Promotion> history)
    {
        var stack = new List<long>();
        foreach (var p in history)
        {
            if (p.Kind == PromotionKinds.Rollback)
            {
                if (stack.Count > 0) stack.RemoveAt(stack.Count - 1);
                // A rollback names the run it returns to; keep the stack consistent with it whatever came before.
                if (stack.Count == 0 || stack[^1] != p.RunId) stack.Add(p.RunId);
            }
            else stack.Add(p.RunId);
        }
        return stack;
    }

    public static long? Champion(IEnumerable<Promotion> history) => Stack(history) is { Count: > 0 } s ? s[^1] : null;

    public static long? RollbackTarget(IEnumerable<Promotion> history) => Stack(history) is { Count: > 1 } s ? s[^2] : null;
}

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
    public async Task<IReadOnlyList<Promotion>> PromotionsAsync(CancellationToken ct)
    {
        const string sql = """
            SELECT id, run_id, previous_run_id, kind, reason, promoted_by, promoted_at FROM training.promotions ORDER BY id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<Promotion>(new CommandDefinition(sql, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Records a promotion if the champion is still <paramref name="expectedChampion"/> (checked under a lock, so two
    /// processes promoting at once cannot both win); false when it changed meanwhile.
    /// </summary>
    public async Task<bool> AddPromotionAsync(long runId, long? expectedChampion, string kind, string reason, string promotedBy, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("LOCK TABLE training.promotions IN EXCLUSIVE MODE", transaction: tx, cancellationToken: ct));
        var history = (await conn.QueryAsync<Promotion>(new CommandDefinition(
            "SELECT id, run_id, previous_run_id, kind, reason, promoted_by, promoted_at FROM training.promotions ORDER BY id",
            transaction: tx, cancellationToken: ct))).AsList();
        if (ChampionHistory.Champion(history) != expectedChampion) return false;
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO training.promotions (run_id, previous_run_id, kind, reason, promoted_by)
            VALUES (@runId, @expectedChampion, @kind, @reason, @promotedBy)
            """, new { runId, expectedChampion, kind, reason, promotedBy }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
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

using Npgsql;

namespace Dsdc.Shared.Jobs;

/// <summary>
/// Keeps a job one at a time across every process that shares the database, with a PostgreSQL session advisory lock
/// rather than Hangfire's <c>DisableConcurrentExecution</c>: the latter is a row in <c>hangfire.lock</c> that a job cut
/// off by a database outage cannot delete, so later runs waited for it (up to Hangfire.PostgreSql's 10-minute expiry),
/// and a run that waited past its timeout failed. An advisory lock dies with its connection.
/// </summary>
public static class OneAtATime
{
    /// <summary>
    /// Runs <paramref name="body"/> while holding the session advisory lock <paramref name="key"/>, waiting up to
    /// <paramref name="wait"/> for whoever holds it (<see cref="TimeSpan.Zero"/>: not at all). Returns false, without
    /// running it, when the lock was still held at the end of the wait.
    /// </summary>
    public static async Task<(bool Ran, T Result)> TryRunAsync<T>(
        NpgsqlDataSource dataSource, long key, TimeSpan wait, Func<CancellationToken, Task<T>> body, CancellationToken ct)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(ct);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", lockConnection))
            {
                take.Parameters.AddWithValue("key", key);
                if (await take.ExecuteScalarAsync(ct) is true) break;
            }
            if (DateTime.UtcNow >= deadline) return (false, default!);
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
        try
        {
            return (true, await body(ct));
        }
        finally
        {
            if (lockConnection.State == System.Data.ConnectionState.Open)
            {
                try
                {
                    await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", lockConnection);
                    release.Parameters.AddWithValue("key", key);
                    await release.ExecuteScalarAsync(CancellationToken.None);
                }
                catch (NpgsqlException)
                {
                    // The connection is gone, and the lock with it.
                }
            }
        }
    }
}

using Npgsql;

namespace Dsdc.Shared.Jobs;

/// <summary>
/// Keeps a job one at a time across every process that shares the database, with a PostgreSQL session advisory lock
/// rather than Hangfire's <c>DisableConcurrentExecution</c>: the latter is a row in <c>hangfire.lock</c> that a job cut
/// off by a database outage cannot delete, so later runs waited for it (up to Hangfire.PostgreSql's 10-minute expiry),
/// and a run that waited past its timeout failed. An advisory lock dies with its connection; so that a job never goes
/// on without it, the connection is watched while the job runs (<see cref="TryRunAsync{T}"/>).
/// </summary>
public static class OneAtATime
{
    /// <summary>How often the connection holding a lock is checked while its job runs.</summary>
    public static readonly TimeSpan DefaultCheckEvery = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Runs <paramref name="body"/> while holding the session advisory lock <paramref name="key"/>, waiting up to
    /// <paramref name="wait"/> for whoever holds it (<see cref="TimeSpan.Zero"/>: not at all). Returns false, without
    /// running it, when the lock was still held at the end of the wait.
    /// While the body runs, the connection that holds the lock is checked every <paramref name="checkEvery"/>: when it
    /// was lost (a database restart, a network cut), the lock went with it, and it is taken again on a new connection.
    /// When another process took it meanwhile (its job now runs), the body's token is cancelled and
    /// <see cref="LockLostException"/> is thrown: two jobs never go on side by side.
    /// </summary>
    public static async Task<(bool Ran, T Result)> TryRunAsync<T>(
        NpgsqlDataSource dataSource, long key, TimeSpan wait, Func<CancellationToken, Task<T>> body, CancellationToken ct,
        TimeSpan? checkEvery = null)
    {
        var lockConnection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var deadline = DateTime.UtcNow + wait;
            while (!await TryLockAsync(lockConnection, key, ct))
            {
                if (DateTime.UtcNow >= deadline) return (false, default!);
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            }

            using var lost = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var stopWatching = new CancellationTokenSource();
            var watch = WatchAsync(dataSource, key, () => lockConnection, c => lockConnection = c, checkEvery ?? DefaultCheckEvery, lost, stopWatching.Token);
            T result;
            try
            {
                result = await body(lost.Token);
            }
            catch (OperationCanceledException) when (lost.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                throw new LockLostException(key);
            }
            finally
            {
                await stopWatching.CancelAsync();
                await watch; // never faults: the watcher catches what it meets
                // Harmless where the lock is not held any more (another session's lock is never released by this one).
                await ReleaseAsync(lockConnection, key);
            }
            // A body that finished although told to stop went on without the lock for a while: said, not hidden.
            if (lost.IsCancellationRequested && !ct.IsCancellationRequested) throw new LockLostException(key);
            return (true, result);
        }
        finally
        {
            await lockConnection.DisposeAsync();
        }
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, long key, CancellationToken ct)
    {
        await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
        take.Parameters.AddWithValue("key", key);
        return await take.ExecuteScalarAsync(ct) is true;
    }

    private static async Task ReleaseAsync(NpgsqlConnection connection, long key)
    {
        if (connection.State != System.Data.ConnectionState.Open) return;
        try
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            release.Parameters.AddWithValue("key", key);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // The connection is gone, and the lock with it.
        }
    }

    /// <summary>
    /// Until <paramref name="stop"/>: checks the connection holding the lock every <paramref name="every"/>. Once it is
    /// lost, opens another and takes the lock again, every second or two until it can (the database may be down). When
    /// the lock is refused, the session that holds it says why: this job's own former session, which the server has not
    /// seen go yet (a network cut leaves it idle until TCP keepalive), is ended and the lock taken again; another session
    /// means another process's job runs, and <paramref name="lost"/> is cancelled. Never throws.
    /// </summary>
    private static async Task WatchAsync(NpgsqlDataSource dataSource, long key, Func<NpgsqlConnection> current, Action<NpgsqlConnection> replace,
        TimeSpan every, CancellationTokenSource lost, CancellationToken stop)
    {
        var formerSession = current().ProcessID;
        var held = true;
        var retry = TimeSpan.FromMilliseconds(Math.Min(every.TotalMilliseconds, 1500));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(held ? every : retry, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (held)
            {
                try
                {
                    // Not cancelled with the watch (a cancel request could land on the unlock that follows): a short timeout.
                    await using var ping = new NpgsqlCommand("SELECT 1", current()) { CommandTimeout = 5 };
                    await ping.ExecuteScalarAsync(CancellationToken.None);
                    continue;
                }
                catch (Exception) when (current().State == System.Data.ConnectionState.Open)
                {
                    continue; // a slow answer, not a lost session: the session, and the lock, are still there
                }
                catch (Exception)
                {
                    held = false; // the connection is gone, and the lock with it (or soon, once the server sees it go)
                }
            }
            NpgsqlConnection? fresh = null;
            try
            {
                fresh = await dataSource.OpenConnectionAsync(stop);
                if (await TryLockAsync(fresh, key, stop))
                {
                    var old = current();
                    replace(fresh);
                    formerSession = fresh.ProcessID;
                    fresh = null;
                    await old.DisposeAsync();
                    held = true;
                    continue;
                }
                var holder = await HolderAsync(fresh, key, stop);
                if (holder == formerSession)
                {
                    // This job's own former session, not yet ended by the server: ended now, and the lock taken again next try.
                    await using var end = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", fresh);
                    end.Parameters.AddWithValue("pid", formerSession);
                    await end.ExecuteScalarAsync(stop);
                }
                else if (holder != 0)
                {
                    await lost.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // The database cannot be reached yet (or the data source is closing): the job's own queries fail meanwhile;
                // tried again shortly.
            }
            finally
            {
                if (fresh is not null) await fresh.DisposeAsync();
            }
        }
    }

    /// <summary>The server process of the session holding the lock; 0 when none does.</summary>
    private static async Task<int> HolderAsync(NpgsqlConnection connection, long key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT coalesce(max(pid), 0) FROM pg_locks
            WHERE locktype = 'advisory' AND objsubid = 1 AND granted
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((classid::bigint << 32) | objid::bigint) = @key
            """, connection);
        cmd.Parameters.AddWithValue("key", key);
        return (int)(await cmd.ExecuteScalarAsync(ct))!;
    }
}

/// <summary>The connection holding a job's lock was lost and another process took the lock before it could be taken
/// again: the job was stopped so that the two do not run side by side.</summary>
public sealed class LockLostException(long key)
    : Exception($"the connection holding job lock {key} was lost (a database restart or a network cut) and another process took the lock " +
        "meanwhile, so this run stopped rather than run beside that one");

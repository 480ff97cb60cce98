using Dsdc.Shared.Jobs;
using Dsdc.Tests.Infrastructure;
using Npgsql;

namespace Dsdc.Tests.Shared;

/// <summary>
/// A job's advisory lock dies with its connection (<see cref="OneAtATime"/>): a job whose lock connection is lost takes
/// the lock again and goes on, unless another process took it meanwhile, when the job is stopped instead of running
/// beside that process's. The lock connection is cut with <c>pg_terminate_backend</c>, as a restart or a network cut would.
/// </summary>
public sealed class JobLockTests : IAsyncLifetime
{
    private const long Key = 0x4A0B_10C4;
    private static readonly TimeSpan CheckEvery = TimeSpan.FromMilliseconds(300);
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>The backend holding the lock (none: 0).</summary>
    private async Task<int> HolderAsync(NpgsqlConnection conn)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT coalesce(max(pid), 0) FROM pg_locks
            WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((classid::bigint << 32) | objid::bigint) = @key
            """, conn);
        cmd.Parameters.AddWithValue("key", Key);
        return (int)(await cmd.ExecuteScalarAsync(Ct))!;
    }

    private async Task<int> WaitForHolderAsync(NpgsqlConnection conn, Func<int, bool> wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var pid = await HolderAsync(conn);
            if (wanted(pid)) return pid;
            Assert.True(DateTime.UtcNow < deadline, $"lock holder {pid} after 30 s");
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public async Task AJobWhoseLockConnectionIsLostTakesTheLockAgainAndGoesOn()
    {
        await using var test = await _dataSource.OpenConnectionAsync(Ct);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var job = OneAtATime.TryRunAsync(_dataSource, Key, TimeSpan.Zero, async c => { await release.Task.WaitAsync(c); return 42; }, Ct, CheckEvery);
        var first = await WaitForHolderAsync(test, pid => pid != 0);

        await using (var cut = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", test))
        {
            cut.Parameters.AddWithValue("pid", first);
            await cut.ExecuteScalarAsync(Ct);
        }
        var second = await WaitForHolderAsync(test, pid => pid != 0 && pid != first);

        Assert.False(job.IsCompleted);
        release.SetResult();
        Assert.Equal((true, 42), await job);
        Assert.NotEqual(first, second);
        Assert.Equal(0, await WaitForHolderAsync(test, pid => pid == 0)); // released at the end
    }

    [Fact]
    public async Task AJobWhoseLockAnotherProcessTookMeanwhileIsStopped()
    {
        await using var test = await _dataSource.OpenConnectionAsync(Ct);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var job = OneAtATime.TryRunAsync(_dataSource, Key, TimeSpan.Zero, async c =>
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, c);
            }
            finally
            {
                stopped.TrySetResult();
            }
            return 0;
        }, Ct, CheckEvery);
        var first = await WaitForHolderAsync(test, pid => pid != 0);

        // Another process's job takes the lock as soon as the connection holding it is gone (queued before it goes).
        await using var other = await _dataSource.OpenConnectionAsync(Ct);
        await using (var cutAndTake = new NpgsqlCommand("SELECT pg_terminate_backend(@pid); SELECT pg_advisory_lock(@key);", other))
        {
            cutAndTake.Parameters.AddWithValue("pid", first);
            cutAndTake.Parameters.AddWithValue("key", Key);
            await cutAndTake.ExecuteNonQueryAsync(Ct);
        }

        var error = await Assert.ThrowsAsync<LockLostException>(() => job);
        Assert.Contains("another process took the lock", error.Message);
        Assert.True(stopped.Task.IsCompleted);
        Assert.Equal(other.ProcessID, await HolderAsync(test));
    }
}

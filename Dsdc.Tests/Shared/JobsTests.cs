using System.Collections.Concurrent;
using Dapper;
using Dsdc.Shared.Jobs;
using Dsdc.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Dsdc.Tests.Shared;

public sealed class JobsTests(JobsTests.Factory factory) : IClassFixture<JobsTests.Factory>
{
    public sealed class Factory : DsdcAppFactory;

    [Fact]
    public async Task AJobEnqueuedThroughTheAppRunsAgainstPostgreSql()
    {
        var jobs = factory.Services.GetRequiredService<IBackgroundJobClient>();
        var token = Guid.NewGuid().ToString("N");
        var done = ProbeJob.Expect(token);

        var jobId = jobs.Enqueue<ProbeJob>(j => j.Run(token, CancellationToken.None));

        Assert.Same(done.Task, await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken)));
        Assert.Equal(factory.Database.Name, await done.Task);
        // Hangfire keeps its state in its own schema of the same database.
        await using var conn = new NpgsqlConnection(factory.Database.ConnectionString);
        var state = await WaitForStateAsync(conn, jobId);
        Assert.Equal("Succeeded", state);
    }

    /// <summary>A Hangfire lock row left by a holder that a database outage cut off (its release never reached the
    /// database) stops blocking the schedulers after a minute, not after Hangfire.PostgreSql's default 10.</summary>
    [Fact]
    public async Task AHangfireLockLeftByAHolderCutOffTwoMinutesAgoIsTakenOver()
    {
        var storage = factory.Services.GetRequiredService<JobStorage>();
        var resource = "dsdc-test:" + Guid.NewGuid().ToString("N");
        using var first = storage.GetConnection();
        using var held = first.AcquireDistributedLock(resource, TimeSpan.FromSeconds(5));
        await using var conn = new NpgsqlConnection(factory.Database.ConnectionString);
        // The holder vanished two minutes ago without releasing: its row ages.
        var aged = await conn.ExecuteAsync("UPDATE hangfire.lock SET acquired = now() - interval '2 minutes' WHERE resource LIKE '%' || @resource", new { resource });
        Assert.Equal(1, aged);

        using var second = storage.GetConnection();
        using var taken = second.AcquireDistributedLock(resource, TimeSpan.FromSeconds(5));

        // A live lock (one acquired just now) still holds.
        var fresh = resource + ":fresh";
        using var live = first.AcquireDistributedLock(fresh, TimeSpan.FromSeconds(5));
        Assert.ThrowsAny<Exception>(() => second.AcquireDistributedLock(fresh, TimeSpan.FromSeconds(2)).Dispose());
    }

    [Fact]
    public async Task TwoHostsInOneProcessEachKeepTheirOwnJobStorageAndActivator()
    {
        await using var databaseA = await TestDatabase.CreateAsync();
        await using var databaseB = await TestDatabase.CreateAsync();
        using var a = JobsHost(databaseA);
        using var b = JobsHost(databaseB);

        // Hangfire's configuration sets process-wide statics. Interleave the two hosts' start-up the way hosts starting
        // side by side can: each configures Hangfire before either has asked for its storage.
        a.Services.GetRequiredService<IGlobalConfiguration>();
        b.Services.GetRequiredService<IGlobalConfiguration>();

        Assert.NotSame(a.Services.GetRequiredService<JobStorage>(), b.Services.GetRequiredService<JobStorage>());
        // Each host's jobs are built from its own services: here, its own configuration.
        foreach (var (host, database) in new[] { (a, databaseA), (b, databaseB) })
        {
            using var scope = host.Services.GetRequiredService<JobActivator>().BeginScope((JobActivatorContext)null!);
            Assert.Equal(database.ConnectionString, ((IConfiguration)scope.Resolve(typeof(IConfiguration)))["ConnectionStrings:Dsdc"]);
        }
        a.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<ProbeJob>(j => j.Run("a", CancellationToken.None));
        b.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<ProbeJob>(j => j.Run("b1", CancellationToken.None));
        b.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<ProbeJob>(j => j.Run("b2", CancellationToken.None));
        Assert.Equal(1, await JobCountAsync(databaseA));
        Assert.Equal(2, await JobCountAsync(databaseB));
    }

    private static IHost JobsHost(TestDatabase database)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Dsdc"] = database.ConnectionString,
            ["Jobs:Server"] = "false",
        });
        builder.AddJobs();
        // Hangfire keeps the last configured host's logger factory process-wide: one that is never disposed, so that
        // no other host's Hangfire logs into a disposed factory after this test.
        builder.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        return builder.Build();
    }

    private static async Task<long> JobCountAsync(TestDatabase database)
    {
        await using var conn = new NpgsqlConnection(database.ConnectionString);
        return await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM hangfire.job");
    }

    private static async Task<string?> WaitForStateAsync(NpgsqlConnection conn, string jobId)
    {
        for (var i = 0; i < 100; i++)
        {
            var state = await conn.ExecuteScalarAsync<string?>("SELECT statename FROM hangfire.job WHERE id = @Id", new { Id = long.Parse(jobId) });
            if (state == "Succeeded") return state;
            await Task.Delay(100);
        }
        return null;
    }
}

/// <summary>A job that proves it ran inside the app: it reads the current database name through the app's data source.</summary>
public sealed class ProbeJob(NpgsqlDataSource dataSource)
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource<string>> Waiting = new();

    public static TaskCompletionSource<string> Expect(string token) =>
        Waiting.GetOrAdd(token, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));

    public async Task Run(string token, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var database = await conn.ExecuteScalarAsync<string>("SELECT current_database()");
        Expect(token).TrySetResult(database!);
    }
}

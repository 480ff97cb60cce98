using System.Diagnostics;
using System.Reflection;
using Dapper;
using Dsdc.Pipeline;
using Dsdc.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dsdc.Tests.Hardening;

/// <summary>
/// Issue 14, item 8: the embedding job ran under Hangfire's DisableConcurrentExecution, a row in hangfire.lock that a job
/// cut off by a database outage leaves behind, delaying later embedding jobs up to 10 minutes. It now holds a session
/// advisory lock, which dies with its connection.
/// </summary>
public sealed class EmbeddingLockTests
{
    private sealed class App : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false", ["Pipeline:Enabled"] = "false", ["Training:Enabled"] = "false", ["Inference:ReloadIntervalSeconds"] = "0",
            ["Ingestion:SettleSeconds"] = "0",
        };
    }

    [Fact]
    public async Task AnEmbeddingJobCutOffWithItsConnectionDoesNotBlockTheNextOne()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new App();
        await app.InitializeAsync();
        Assert.Null(typeof(PipelineJobs).GetMethod(nameof(PipelineJobs.EmbeddingsAsync))!.GetCustomAttribute<DisableConcurrentExecutionAttribute>());

        // A job that held the lock when its connection died (an outage, a killed worker).
        await using (var dead = new NpgsqlConnection(app.Database.ConnectionString + ";Pooling=false"))
        {
            await dead.OpenAsync(ct);
            await dead.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = PipelineJobs.EmbeddingLockKey });
            await using var admin = new NpgsqlConnection(app.Database.ConnectionString + ";Pooling=false");
            await admin.OpenAsync(ct);
            Assert.True(await admin.ExecuteScalarAsync<bool>("SELECT pg_terminate_backend(@pid)", new { pid = dead.ProcessID }));
        }

        var watch = Stopwatch.StartNew();
        var result = await app.Services.GetRequiredService<PipelineJobs>().EmbeddingsAsync(ct);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"the next embedding job waited {watch.Elapsed}");
        Assert.Contains("embedded", result);
    }

    /// <summary>
    /// The <c>ingest</c> command embeds under the embedding jobs' lock: while a worker's embedding job holds it, the
    /// command's other stages go on and its embedding waits (the worker's job takes what is pending); once the lock is
    /// free the command embeds what is left. Never both on the same batch.
    /// </summary>
    [Fact]
    public async Task TheIngestCommandEmbedsOnlyWhileNoEmbeddingJobRuns()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new App();
        await app.InitializeAsync();
        var (path, label) = Fixtures.First(".png");
        Dsdc.Ingestion.InboxDrop.Add(Path.Combine(app.DataDir, "to_ingest"), path, label, "one");
        await using var job = new NpgsqlConnection(app.Database.ConnectionString + ";Pooling=false");
        await job.OpenAsync(ct);
        await job.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = PipelineJobs.EmbeddingLockKey });
        var cleaned = new TaskCompletionSource();
        var progress = new Progress<PipelineProgress>(p => { if (p.Cleaned > 0) cleaned.TrySetResult(); });

        var run = app.Services.GetRequiredService<PipelineRunner>().RunUntilEmptyAsync(progress, ct);
        await cleaned.Task.WaitAsync(TimeSpan.FromMinutes(3), ct);
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        Assert.False(run.IsCompleted);
        Assert.Equal(0L, await job.ExecuteScalarAsync<long>("SELECT count(*) FROM embedding.embeddings"));

        await job.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = PipelineJobs.EmbeddingLockKey });
        var (_, totals) = await run.WaitAsync(TimeSpan.FromMinutes(3), ct);
        Assert.Equal(1, totals.Embedded);
        Assert.Equal(1L, await job.ExecuteScalarAsync<long>("SELECT count(*) FROM embedding.embeddings"));
    }

    /// <summary>A recurring pipeline run that finds another one running leaves at once, instead of holding a job thread
    /// for up to 30 minutes while the schedule starts more of them every three minutes.</summary>
    [Fact]
    public async Task APipelineRunThatFindsAnotherRunningLeavesAtOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new App();
        await app.InitializeAsync();
        await using var running = new NpgsqlConnection(app.Database.ConnectionString + ";Pooling=false");
        await running.OpenAsync(ct);
        await running.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = PipelineJobs.RunLockKey });

        var watch = Stopwatch.StartNew();
        var skipped = await app.Services.GetRequiredService<PipelineJobs>().RunScheduledAsync(ct);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the run waited {watch.Elapsed}");
        Assert.Equal("skipped: another pipeline run is running", skipped);

        await running.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = PipelineJobs.RunLockKey });
        Assert.StartsWith("ingestion:", await app.Services.GetRequiredService<PipelineJobs>().RunScheduledAsync(ct));
    }
}

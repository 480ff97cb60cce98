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
}

using Dsdc.Tests.Ingestion;
using Dsdc.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Training;

public sealed class InterruptedRunTests
{
    /// <summary>
    /// A run left 'running' by a job whose process was killed is marked failed, with the reason, by the next job (which
    /// holds the training lock, so no run of a live job can be taken for it); it no longer shows as in progress.
    /// </summary>
    [Fact]
    public async Task TheNextJobMarksFailedTheRunsAKilledJobLeftRunning()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await IngestionApp.StartAsync();
        var store = app.Services.GetRequiredService<TrainingStore>();
        var runId = await store.CreateRunAsync(new NewRun("fused-tvr", "{}", "resnet18-minilm", "1", 896, 42, "cpu", 10, 0, 10, "schedule"), ct);

        var report = await app.Services.GetRequiredService<TrainingService>().TrainAsync(null, null, "test", ct);

        Assert.Empty(report.Runs); // nothing labelled: the job itself skips
        var run = await store.RunAsync(runId, ct);
        Assert.Equal("failed", run!.Status);
        Assert.Equal(TrainingStore.InterruptedError, run.Error);
        Assert.NotNull(run.FinishedAt);
    }
}

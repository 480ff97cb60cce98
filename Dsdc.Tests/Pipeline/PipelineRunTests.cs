using System.Diagnostics;
using System.Security.Cryptography;
using Dsdc.Pipeline;
using Dsdc.Tests.Infrastructure;
using Dsdc.Tests.Ingestion;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Pipeline;

public sealed class PipelineRunTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Environment(IngestionApp app) => new()
    {
        ["ConnectionStrings__Dsdc"] = app.Database.ConnectionString,
        ["Dsdc__DataDir"] = app.DataDir,
        ["Dsdc__ModelsDir"] = app.ModelsDir,
        ["Ingestion__SettleSeconds"] = "0",
        ["Auth__SigningKey"] = DsdcAppFactory.NewSigningKey(),
    };

    [Fact]
    public async Task TheIngestCommandRunsThePipelineUntilTheInboxIsEmpty()
    {
        await using var app = await IngestionApp.StartAsync();
        var docs = Fixtures.Labelled().Where(d => !d.Path.EndsWith(".jpg")).Take(5).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i))) app.Drop($"doc{i}", d.Path, d.Label.ToString());
        app.DropBytes("broken", "zero.tif", [], "1");

        var result = await AppProcess.RunAsync(["ingest"], Environment(app), timeout: TimeSpan.FromMinutes(5));

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains($"{docs.Count} accepted, 1 rejected (empty-file: 1)", result.StdOut);
        Assert.Contains("documents/s", result.StdOut);
        Assert.Equal(docs.Count, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts"));
        Assert.Equal(docs.Count, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_images"));
        Assert.Empty(app.InboxEntries());
    }

    [Fact]
    public async Task KillingIngestMidBatchThenRestartingAccountsForEveryFileOnce()
    {
        await using var app = await IngestionApp.StartAsync();
        var docs = Fixtures.Labelled().Where(d => !d.Path.EndsWith(".jpg")).Take(40).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i))) app.Drop($"doc{i:00}", d.Path, d.Label.ToString());
        var ids = docs.Select(d => Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(d.Path)))).ToList();

        // Kill the process at three different moments, the way a power cut would.
        foreach (var delay in new[] { 700, 1500, 2500 })
        {
            using var killed = StartIngest(Environment(app));
            await Task.Delay(delay, Ct);
            killed.Kill(entireProcessTree: true);
            await killed.WaitForExitAsync(Ct);
        }
        var final = await AppProcess.RunAsync(["ingest"], Environment(app), timeout: TimeSpan.FromMinutes(5));

        Assert.True(final.ExitCode == 0, final.StdErr);
        Assert.Empty(app.InboxEntries());
        var stored = await app.QueryAsync<string>("SELECT id FROM ingestion.original_documents WHERE ingest_state = 'stored'");
        Assert.Equal(ids.Distinct().Order(), stored.Order());
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE ingest_state <> 'stored'"));
        Assert.Equal(stored.Count, app.FilesUnder("raw").Count);
        // Identical files among the inputs are the only rejections, each once.
        Assert.Equal(ids.Count - ids.Distinct().Count(), await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.rejected_documents WHERE reason_code = 'duplicate'"));
        Assert.Equal(stored.Count, await app.ScalarAsync<long>("SELECT count(DISTINCT document_id) FROM ingestion.labels"));
        Assert.Equal(stored.Count, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels"));
        Assert.Equal(stored.Count, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts"));
    }

    [Fact]
    public async Task TheRecurringRunChainsTheStagesThroughHangfire()
    {
        await using var app = await IngestionApp.StartAsync(jobServer: true);
        var docs = Fixtures.Labelled().Where(d => d.Path.EndsWith(".png")).Take(3).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i))) app.Drop($"doc{i}", d.Path, d.Label.ToString());

        app.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<PipelineJobs>(j => j.RunAsync(CancellationToken.None));

        // Ends as soon as the stages are done; generous because the whole suite starts beside it on two cores.
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromMinutes(6)
               && (await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts") < docs.Count
                   || await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_images") < docs.Count))
            await Task.Delay(250, Ct);
        var states = await app.QueryAsync<string>("SELECT invocationdata::json->>'Method' || ':' || statename FROM hangfire.job");
        var texts = await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts");
        var images = await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_images");
        Assert.True(texts == docs.Count && images == docs.Count,
            $"after {watch.Elapsed}: {texts} texts and {images} images of {docs.Count}; this app's jobs: {string.Join(", ", states)}");
        Assert.Contains("RunAsync:Succeeded", states);
        Assert.Contains(states, s => s.StartsWith("OcrAsync:"));
        Assert.Contains(states, s => s.StartsWith("CleanTextAsync:"));
    }

    private static Process StartIngest(IDictionary<string, string?> env)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        info.ArgumentList.Add(AppProcess.WebAssembly);
        info.ArgumentList.Add("ingest");
        foreach (var (k, v) in env) info.Environment[k] = v;
        var p = Process.Start(info)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}

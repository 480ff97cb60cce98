using System.Diagnostics;
using System.Text.RegularExpressions;
using Dsdc.Pipeline;
using Dsdc.Tests.Infrastructure;
using Dsdc.Tests.Ingestion;
using Dsdc.Tests.Monitoring;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Pipeline;

/// <summary>Several workers on one stage: per-document claims split the work, and nothing is done twice or missed.</summary>
public sealed partial class ScaleOutTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoClaimsOnTheSameStageNeverShareADocument()
    {
        await using var app = await IngestionApp.StartAsync();
        foreach (var (d, i) in Fixtures.Labelled().Where(d => d.Path.EndsWith(".png")).Take(6).Select((d, i) => (d, i)))
            app.Drop($"doc{i}", d.Path, d.Label.ToString());
        await app.Ingestor.IngestAsync(10, null, Ct);
        var stored = await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE ingest_state = 'stored'");
        var store = app.Services.GetRequiredService<StageStore>();
        var ocr = app.Services.GetRequiredService<Dsdc.Ocr.ITextExtractor>();

        await using (var first = await store.ClaimMissingTextAsync(ocr.Processor, ocr.ProcessorVersion, 3, 4, Ct))
        await using (var second = await store.ClaimMissingTextAsync(ocr.Processor, ocr.ProcessorVersion, 3, 4, Ct))
        {
            Assert.Equal(Math.Min(4, stored), first.Items.Count);
            Assert.Equal(stored - first.Items.Count, second.Items.Count);
            Assert.Empty(first.Items.Select(d => d.Id).Intersect(second.Items.Select(d => d.Id)));
        }
        // Released with the batch: the next claim sees every document again.
        await using var third = await store.ClaimMissingTextAsync(ocr.Processor, ocr.ProcessorVersion, 3, 10, Ct);
        Assert.Equal(stored, third.Items.Count);
    }

    [Fact]
    public async Task ADocumentFinishedByAnotherWorkerIsNotClaimedAgain()
    {
        await using var app = await IngestionApp.StartAsync();
        var png = Fixtures.First(".png");
        app.Drop("one", png.Path, png.Label.ToString());
        await app.Ingestor.IngestAsync(10, null, Ct);
        var stages = app.Services.GetRequiredService<PipelineStages>();

        var first = await stages.ProcessImagesAsync(10, Ct);
        var second = await stages.ProcessImagesAsync(10, Ct);

        Assert.Equal(1, first.Processed);
        Assert.Equal(0, second.Touched);
    }

    [Fact]
    public async Task TwoWorkerProcessesProcessABatchExactlyOnce()
    {
        // The database, data folder and job storage that both workers share; this in-process app runs no job server.
        await using var app = await IngestionApp.StartAsync();
        var docs = Fixtures.Labelled().Where(d => !d.Path.EndsWith(".jpg")).Take(12).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i))) app.Drop($"doc{i:00}", d.Path, d.Label.ToString());
        Dictionary<string, string?> environment = new()
        {
            ["ConnectionStrings__Dsdc"] = app.Database.ConnectionString,
            ["Dsdc__DataDir"] = app.DataDir,
            ["Dsdc__ModelsDir"] = app.ModelsDir,
            ["Auth__SigningKey"] = DsdcAppFactory.NewSigningKey(),
            ["Ingestion__SettleSeconds"] = "0",
            ["Pipeline__Enabled"] = "false",
            ["Pipeline__BatchSize"] = "4",          // 12 documents: 3 OCR and 3 image jobs, shared by the workers
            ["Pipeline__Parallelism"] = "1",
            ["Jobs__Queues__0"] = "default",
            ["Jobs__Queues__1"] = "ocr",
            ["Jobs__Queues__2"] = "embedding",
            ["Jobs__WorkerCount"] = "2",
            ["Inference__PredictNewDocuments"] = "false",
        };
        await using var one = await RunningApp.StartAsync(["worker"], environment);
        await using var two = await RunningApp.StartAsync(["worker"], environment);

        // A run ingests one batch (4) and fans its stages out; three runs (one at a time) empty the inbox of 12.
        var client = app.Services.GetRequiredService<IBackgroundJobClient>();
        for (var run = 0; run < 5; run++)
            client.Enqueue<PipelineJobs>(j => j.RunAsync(CancellationToken.None));

        var stored = 0L;
        var watch = Stopwatch.StartNew();
        // Generous: the whole suite runs beside this test on two cores.
        while (watch.Elapsed < TimeSpan.FromMinutes(8))
        {
            stored = await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE ingest_state = 'stored'");
            if (stored > 0 && app.InboxEntries().Count == 0
                && await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts") >= stored
                && await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_images") >= stored
                && await app.ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE statename IN ('Enqueued', 'Processing', 'Awaiting')") == 0)
                break;
            await Task.Delay(500, Ct);
        }

        Assert.True(stored > 0, one.Output + two.Output);
        Assert.Empty(app.InboxEntries());
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.stage_failures"));
        foreach (var table in new[] { "pipeline.raw_texts", "pipeline.processed_texts", "pipeline.processed_images" })
        {
            Assert.Equal(stored, await app.ScalarAsync<long>($"SELECT count(*) FROM {table}"));
            Assert.Equal(stored, await app.ScalarAsync<long>($"SELECT count(DISTINCT document_id) FROM {table}"));
        }
        // Exactly once in the work too, not only in the tables: the workers' own counters add up to one OCR per document.
        using var http = new HttpClient();
        var ocrCounts = new List<long>();
        foreach (var worker in new[] { one, two })
            ocrCounts.Add(Count(await http.GetStringAsync(new Uri(worker.BaseAddress, "/metrics"), Ct), "ocr"));
        TestContext.Current.TestOutputHelper?.WriteLine($"documents OCR'd by each worker: {string.Join(", ", ocrCounts)}");
        Assert.Equal(stored, ocrCounts.Sum());
        var ocrJobs = await app.QueryAsync<string>("SELECT statename FROM hangfire.job WHERE invocationdata::json->>'Method' = 'OcrAsync'");
        Assert.True(ocrJobs.Count > 1, "the run fans a large backlog out to several OCR jobs");
        Assert.All(ocrJobs, s => Assert.Equal("Succeeded", s));
        // The queues each worker's Hangfire servers registered: the three it was given, never training's.
        var servers = await app.QueryAsync<string>("SELECT data::text FROM hangfire.server");
        Assert.NotEmpty(servers);
        Assert.All(servers, data => Assert.DoesNotContain("\"training\"", data));
        Assert.Contains(servers, data => data.Contains("\"ocr\"", StringComparison.Ordinal));
    }

    private static long Count(string scrape, string stage)
    {
        var m = Regex.Match(scrape, $"dsdc_pipeline_documents_total\\{{stage=\"{stage}\",outcome=\"processed\"\\}} (\\d+)");
        return m.Success ? long.Parse(m.Groups[1].Value) : 0;
    }
}

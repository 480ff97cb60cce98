using Dsdc.Pipeline;
using Dsdc.Tests.Infrastructure;
using Dsdc.Tests.Ingestion;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Pipeline;

public sealed class PipelineStageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StagesFillImagesTextsAndCleanedTextsForRealDocumentsOnce()
    {
        await using var app = await IngestionApp.StartAsync();
        var tif = Fixtures.First(".tif", label: 0);
        var pdf = Fixtures.First(".pdf");
        app.Drop("letter", tif.Path, "0");
        app.Drop("invoice", pdf.Path, "11");
        await app.Ingestor.IngestAsync(10, null, Ct);
        var stages = app.Services.GetRequiredService<PipelineStages>();

        var images = await stages.ProcessImagesAsync(10, Ct);
        var texts = await stages.ExtractTextAsync(10, Ct);
        var cleaned = await stages.CleanTextAsync(10, Ct);

        Assert.Equal((2, 0), (images.Processed, images.Failed));
        Assert.Equal((2, 0), (texts.Processed, texts.Failed));
        Assert.Equal(2, cleaned.Processed);
        foreach (var (path, w, h) in await app.QueryAsync<(string, int, int)>("SELECT file_path, width, height FROM pipeline.processed_images"))
        {
            Assert.True(File.Exists(Path.Combine(app.Paths.DataDir, path)), path);
            Assert.Equal((224, 224), (w, h));
        }
        var methods = (await app.QueryAsync<(string Folder, string Method, string Processor)>("""
            SELECT d.source_folder, r.method, r.processor FROM pipeline.raw_texts r JOIN ingestion.original_documents d ON d.id = r.document_id
            """)).ToDictionary(r => r.Folder);
        Assert.Equal("ocr", methods["letter"].Method);
        Assert.Equal("pdf-text-layer", methods["invoice"].Method);
        var cleanInvoice = await app.ScalarAsync<string>("""
            SELECT p.text FROM pipeline.processed_texts p JOIN ingestion.original_documents d ON d.id = p.document_id WHERE d.source_folder = 'invoice'
            """);
        Assert.Contains("invoice", cleanInvoice);
        Assert.Matches("^[a-z ]*$", cleanInvoice);

        // Nothing is missing any more: a second pass does nothing and writes nothing twice.
        Assert.Equal(0, (await stages.ProcessImagesAsync(10, Ct)).Touched);
        Assert.Equal(0, (await stages.ExtractTextAsync(10, Ct)).Touched);
        Assert.Equal(0, (await stages.CleanTextAsync(10, Ct)).Touched);
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts"));
    }

    [Fact]
    public async Task ANewProcessorVersionRecomputesItsStageAndKeepsTheOldRows()
    {
        await using var app = await IngestionApp.StartAsync();
        app.Drop("letter", Fixtures.First(".tif", label: 0).Path, "0");
        app.Drop("invoice", Fixtures.First(".pdf").Path, "11");
        await app.Ingestor.IngestAsync(10, null, Ct);
        var stages = app.Services.GetRequiredService<PipelineStages>();
        await stages.ProcessImagesAsync(10, Ct);
        await stages.ExtractTextAsync(10, Ct);
        await stages.CleanTextAsync(10, Ct);

        // As if the rows came from older processors: the current versions find them missing.
        await app.ScalarAsync<int>("UPDATE pipeline.raw_texts SET processor_version = 'older' WHERE method = 'ocr' RETURNING 1");
        await app.ScalarAsync<int>("UPDATE pipeline.processed_images SET processor_version = 'older' RETURNING 1");
        var ocr = await stages.ExtractTextAsync(10, Ct);
        var images = await stages.ProcessImagesAsync(10, Ct);
        var cleaned = await stages.CleanTextAsync(10, Ct);

        Assert.Equal(1, ocr.Processed); // the scanned letter; the PDF's own text layer stays valid
        Assert.Equal(2, images.Processed);
        Assert.Equal(1, cleaned.Processed); // the letter's new raw text
        Assert.Equal(3, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.raw_texts"));
        Assert.Equal(4, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_images"));

        // A newer cleaner: each document's newest raw text waits to be cleaned again, and then nothing does (the letter's
        // older OCR text, which the stage never cleans again, is not counted as waiting for ever).
        await app.ScalarAsync<int>("UPDATE pipeline.processed_texts SET processor_version = 'older' RETURNING 1");
        Assert.Equal(2, (await stages.BacklogAsync(Ct)).Text);
        Assert.Equal(2, (await stages.CleanTextAsync(10, Ct)).Processed);
        Assert.Equal(0, (await stages.BacklogAsync(Ct)).Text);
    }

    /// <summary>
    /// The embedding job that holds the lock takes batch after batch while documents wait (the OCR chains whose own
    /// embedding job found it busy left theirs to it), not one batch per pipeline run.
    /// </summary>
    [Fact]
    public async Task OneEmbeddingJobEmbedsEveryWaitingDocumentBatchAfterBatch()
    {
        await using var app = await IngestionApp.StartAsync();
        var docs = Fixtures.Labelled().Where(d => d.Path.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Take(5).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i))) app.Drop($"doc{i}", d.Path, d.Label.ToString());
        await app.Ingestor.IngestAsync(10, null, Ct);
        var stages = app.Services.GetRequiredService<PipelineStages>();
        await stages.ProcessImagesAsync(10, Ct);
        await stages.ExtractTextAsync(10, Ct);
        await stages.CleanTextAsync(10, Ct);
        var s = app.Services;
        var jobs = new PipelineJobs(s.GetRequiredService<Dsdc.Ingestion.InboxIngestor>(), stages, s.GetRequiredService<Hangfire.IBackgroundJobClient>(),
            Microsoft.Extensions.Options.Options.Create(new PipelineOptions { BatchSize = 2 }), s.GetRequiredService<Npgsql.NpgsqlDataSource>(),
            s.GetRequiredService<IEmbeddingStage>());

        var result = await jobs.EmbeddingsAsync(Ct);

        Assert.Equal(docs.Count, await app.ScalarAsync<long>("SELECT count(*) FROM embedding.embeddings"));
        Assert.Equal(docs.Count, await app.ScalarAsync<long>("SELECT count(*) FROM embedding.page_features"));
        Assert.StartsWith($"{docs.Count} embedded, page features of {docs.Count}", result);
    }

    [Fact]
    public async Task ADocumentAStageCannotReadIsRecordedAndThenSkipped()
    {
        await using var app = await IngestionApp.StartAsync();
        var good = Fixtures.First(".png");
        var bad = Fixtures.First(".tif");
        app.Drop("good", good.Path, good.Label.ToString());
        app.Drop("bad", bad.Path, bad.Label.ToString());
        await app.Ingestor.IngestAsync(10, null, Ct);
        var badRaw = await app.ScalarAsync<string>("SELECT file_path FROM ingestion.original_documents WHERE source_folder = 'bad'");
        await File.WriteAllBytesAsync(Path.Combine(app.Paths.DataDir, badRaw), "II*\0garbage after a TIFF header"u8.ToArray(), Ct);
        var stages = app.Services.GetRequiredService<PipelineStages>();

        // Pipeline:RetryAfterSeconds later, as a later run would come back to it.
        async Task<StageResult> LaterAsync()
        {
            await app.ScalarAsync<int>("UPDATE pipeline.stage_failures SET last_attempt_at = now() - interval '11 minutes' RETURNING 0");
            return await stages.ProcessImagesAsync(10, Ct);
        }

        var first = await stages.ProcessImagesAsync(10, Ct);
        var atOnce = await stages.ProcessImagesAsync(10, Ct);
        Assert.Equal(1, await app.ScalarAsync<int>("SELECT attempts FROM pipeline.stage_failures WHERE stage = 'image'"));
        var second = await LaterAsync();
        var third = await LaterAsync();
        var fourth = await LaterAsync();

        Assert.Equal((1, 1), (first.Processed, first.Failed));
        Assert.Equal(0, atOnce.Touched); // not again within the same minutes: a passing problem would use up every attempt
        Assert.Equal((0, 1, 0, 1), (second.Processed, second.Failed, third.Processed, third.Failed));
        Assert.Equal(0, fourth.Touched);
        Assert.Equal(3, await app.ScalarAsync<int>("SELECT attempts FROM pipeline.stage_failures WHERE stage = 'image'"));
        Assert.NotEmpty(await app.ScalarAsync<string>("SELECT error FROM pipeline.stage_failures WHERE stage = 'image'"));
    }

    [Fact]
    public async Task ADocumentTheWorkerDiedOnIsWorkedOnAloneAndSetAsideAfterMaxAttemptsDeaths()
    {
        await using var app = await IngestionApp.StartAsync();
        var labelled = Fixtures.Labelled().Where(d => d.Path.EndsWith(".tif", StringComparison.OrdinalIgnoreCase)).Take(4).ToList();
        for (var i = 0; i < labelled.Count; i++) app.Drop("f" + i, labelled[i].Path, labelled[i].Label.ToString());
        await app.Ingestor.IngestAsync(10, null, Ct);
        var ids = (await app.QueryAsync<(string Folder, string Id)>("SELECT source_folder, id FROM ingestion.original_documents"))
            .ToDictionary(r => r.Folder, r => r.Id);
        var store = app.Services.GetRequiredService<StageStore>();
        var version = app.Services.GetRequiredService<DocumentProcessor>().ImageVersion;
        var stages = app.Services.GetRequiredService<PipelineStages>();
        async Task StartsAsync(string folder, int times, bool alone)
        {
            for (var i = 0; i < times; i++) await store.StartAsync(ids[folder], StageStore.ImageStage, version, alone, Ct);
        }
        Task AgeStartsAsync(string folder) =>
            app.ScalarAsync<int>("UPDATE pipeline.stage_starts SET last_started_at = now() - interval '1 day' WHERE document_id = @id RETURNING 0",
                new { id = ids[folder] });

        // Another worker is on every document, and what it leaves when it dies are starts never taken back: the process
        // died 3 times (Pipeline:MaxAttempts) while on f0 alone; 5 times while on f1 among others (any of them could have
        // been the cause); once just now on f3 among others; never on f2.
        await using (var other = await store.ClaimMissingImagesAsync("another", version, 3, 10, Ct))
        {
            Assert.Equal(4, other.Items.Count);
            await StartsAsync("f0", 3, alone: true);
            await StartsAsync("f1", 5, alone: false);
            await StartsAsync("f3", 1, alone: false);
            await AgeStartsAsync("f1");

            // While its claims live (its process has not gone), nothing is set aside or taken from it.
            Assert.Equal(0, (await stages.ProcessImagesAsync(10, Ct)).Touched);
            Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.stage_failures"));
        }

        var run = await stages.ProcessImagesAsync(10, Ct);

        // f0 is set aside before the claim, with the reason; f3 waits Pipeline:RetryAfterSeconds after its death; f1's deaths
        // among others do not count against it: it is worked on, alone, after f2.
        Assert.Equal((2, 0), (run.Processed, run.Failed));
        var failure = (await app.QueryAsync<(string Id, int Attempts, string Error)>(
            "SELECT document_id, attempts, error FROM pipeline.stage_failures WHERE stage = 'image'")).Single();
        Assert.Equal((ids["f0"], 3), (failure.Id, failure.Attempts));
        Assert.Equal(StageStore.DiedWhileOnIt(3), failure.Error);
        var order = (await app.QueryAsync<string>("SELECT document_id FROM pipeline.processed_images ORDER BY id")).ToList();
        Assert.Equal([ids["f2"], ids["f1"]], order);
        // A stored document forgets its deaths; f0's became its failure; f3's one death stays until it is worked on.
        var starts = (await app.QueryAsync<(string Id, int Unfinished)>("SELECT document_id, unfinished FROM pipeline.stage_starts")).ToList();
        Assert.Equal([(ids["f3"], 1)], starts);

        await AgeStartsAsync("f3");
        var later = await stages.ProcessImagesAsync(10, Ct);
        Assert.Equal((1, 0), (later.Processed, later.Failed));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.stage_starts"));

        // Given up: later runs leave f0, the backlog does not wait for it, and a new processor version would try again.
        await app.ScalarAsync<int>("UPDATE pipeline.stage_failures SET last_attempt_at = now() - interval '1 day' RETURNING 0");
        Assert.Equal(0, (await stages.ProcessImagesAsync(10, Ct)).Touched);
        Assert.Equal(0, (await stages.BacklogAsync(Ct)).Images);
    }

    [Fact]
    public async Task AnEmptyTextIsAValidResult()
    {
        await using var app = await IngestionApp.StartAsync();
        var blank = Fixtures.PngBlankPage();
        app.DropBytes("blank", "blank.png", blank, "3");
        await app.Ingestor.IngestAsync(10, null, Ct);
        var stages = app.Services.GetRequiredService<PipelineStages>();

        var ocr = await stages.ExtractTextAsync(10, Ct);
        var clean = await stages.CleanTextAsync(10, Ct);

        Assert.Equal((1, 0), (ocr.Processed, ocr.Failed));
        Assert.Equal(1, clean.Processed);
        Assert.Equal("", await app.ScalarAsync<string>("SELECT text FROM pipeline.processed_texts"));
    }
}

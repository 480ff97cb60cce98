using Dapper;
using Dsdc.Embedding;
using Dsdc.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pgvector;

namespace Dsdc.Tests.Embedding;

/// <summary>The embedding stage and similar-document search on a real database, with the real default encoder.</summary>
public sealed class EmbeddingJobTests(EmbeddingDatabase db) : IClassFixture<EmbeddingDatabase>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dsdc-embed-job-").FullName;

    private DsdcPaths Paths { get; } = CreatePaths();

    private static DsdcPaths CreatePaths()
    {
        var paths = EmbeddingTestKit.Paths(Directory.CreateTempSubdirectory("dsdc-embed-data-").FullName);
        paths.EnsureCreated();
        return paths;
    }

    private EmbeddingJob Job(int batchSize = 2) => new(new EmbeddingStore(db.DataSource), EmbeddingTestKit.Processor(Paths),
        Options.Create(new EmbeddingOptions { BatchSize = batchSize }), NullLogger<EmbeddingJob>.Instance);

    private SimilarDocumentSearch Search() => new(db.DataSource, new EmbeddingStore(db.DataSource), EmbeddingTestKit.DefaultEncoder,
        Options.Create(new EmbeddingOptions()));

    /// <summary>Preprocesses a dataset page into the data folder as the pipeline would; returns its path relative to it.</summary>
    private string ProcessedPage(string datasetRelative)
    {
        var (png, _) = EmbeddingTestKit.ProcessPage(EmbeddingTestKit.DatasetFile(datasetRelative), Paths.Processed);
        return Path.GetRelativePath(Paths.DataDir, png);
    }

    [Fact]
    public async Task JobFillsExactlyTheMissingRowsAndIsIdempotent()
    {
        var ct = TestContext.Current.CancellationToken;
        var invoice = ProcessedPage("bootcamp_golden_alimsaleh/11_invoice/invoice_00401.tif");
        var email = ProcessedPage("bootcamp_golden_dropsort/2_email/06_email_26865.tif");

        // Ready: image + text, twice with a newer text, whose newest text must be used.
        var ready = await db.AddDocumentAsync();
        var readyImage = await db.AddProcessedImageAsync(ready, invoice);
        await db.AddProcessedTextAsync(ready, "old text", "v0");
        var readyText = await db.AddProcessedTextAsync(ready, "invoice total due");
        var ready2 = await db.AddDocumentAsync();
        var ready2Image = await db.AddProcessedImageAsync(ready2, email);
        var ready2Text = await db.AddProcessedTextAsync(ready2, "from to subject meeting");
        var ready3 = await db.AddDocumentAsync();
        var ready3Image = await db.AddProcessedImageAsync(ready3, invoice);
        var ready3Text = await db.AddProcessedTextAsync(ready3, "");
        // Not ready: no text yet / no image yet.
        var noText = await db.AddDocumentAsync();
        await db.AddProcessedImageAsync(noText, invoice);
        var noImage = await db.AddDocumentAsync();
        await db.AddProcessedTextAsync(noImage, "text only");
        // Already embedded by this encoder: must stay untouched.
        var done = await db.AddDocumentAsync();
        var doneImage = await db.AddProcessedImageAsync(done, email);
        var doneText = await db.AddProcessedTextAsync(done, "already");
        await using (var conn = await db.DataSource.OpenConnectionAsync(ct))
            await conn.ExecuteAsync("""
                INSERT INTO embedding.embeddings (document_id, processed_image_id, processed_text_id, encoder, encoder_version, dimensions, embedding)
                VALUES (@done, @doneImage, @doneText, 'resnet18-minilm', '1', 896, @v)
                """, new { done, doneImage, doneText, v = new Vector(Enumerable.Repeat(0.1f, 896).ToArray()) });
        var before = await db.EmbeddingsAsync();
        var job = Job(batchSize: 2);

        var missingBefore = await job.CountMissingAsync(ct);
        var first = await job.EmbedMissingAsync(100, ct);
        var second = await job.EmbedMissingAsync(100, ct);

        var added = (await db.EmbeddingsAsync()).Except(before).OrderBy(r => r.ProcessedImageId).ToList();
        Assert.Equal(3, missingBefore);
        Assert.Equal(3, first);
        Assert.Equal(0, second);
        Assert.Equal(0, await job.CountMissingAsync(ct));
        Assert.Equal(
            [(ready, readyImage, readyText, EncoderIds.Default, 896), (ready2, ready2Image, ready2Text, EncoderIds.Default, 896),
             (ready3, ready3Image, ready3Text, EncoderIds.Default, 896)],
            added);
    }

    [Fact]
    public async Task JobStopsAtMaxDocuments()
    {
        var ct = TestContext.Current.CancellationToken;
        var page = ProcessedPage("bootcamp_golden_dropsort/10_budget/30_budget_9355.tif");
        for (var i = 0; i < 3; i++)
        {
            var doc = await db.AddDocumentAsync();
            await db.AddProcessedImageAsync(doc, page);
            await db.AddProcessedTextAsync(doc, $"budget {i}");
        }
        var job = Job(batchSize: 8);
        var pending = await job.CountMissingAsync(ct);

        Assert.Equal(1, await job.EmbedMissingAsync(1, ct));
        Assert.Equal(pending - 1, await job.CountMissingAsync(ct));
        await job.EmbedMissingAsync(100, ct); // leave nothing pending for the other tests of this class
    }

    [Fact]
    public async Task NearestNeighbourOfADocumentIsItselfWithItsNewestHumanLabel()
    {
        var ct = TestContext.Current.CancellationToken;
        var pages = new (string Page, int Label, string Text)[]
        {
            ("bootcamp_golden_dropsort/2_email/06_email_26865.tif", 2, "from to subject re meeting schedule"),
            ("bootcamp_golden_dropsort/2_email/07_email_24601.tif", 2, "from to cc subject re meeting agenda"),
            ("bootcamp_golden_dropsort/9_news_article/28_news_article_2354.tif", 9, "smokers health study reported"),
            ("bootcamp_golden_dropsort/10_budget/31_budget_21723.tif", 10, "budget total expenses quarter"),
        };
        var ids = new List<string>();
        foreach (var (page, label, text) in pages)
        {
            var doc = await db.AddDocumentAsync(label);
            await db.AddProcessedImageAsync(doc, ProcessedPage(page));
            await db.AddProcessedTextAsync(doc, text);
            ids.Add(doc);
        }
        await db.AddLabelAsync(ids[3], 11, "human"); // a person corrected the budget to an invoice
        await Job().EmbedMissingAsync(100, ct);
        var search = Search();

        foreach (var id in ids)
        {
            var hits = await search.FindSimilarToAsync(id, 3, includeSelf: true, ct);
            Assert.NotNull(hits);
            Assert.Equal(id, hits[0].DocumentId);
            Assert.True(hits[0].Distance < 1e-5);
            Assert.Equal(3, hits.Count);
        }
        var budget = (await search.FindSimilarToAsync(ids[3], 1, includeSelf: true, ct))![0];
        Assert.Equal((11, "invoice", "human"), (budget.Label, budget.ClassName, budget.LabelSource));
        // The class fixture's database also holds the other tests' documents: look at this test's ones only.
        var others = await search.FindSimilarToAsync(ids[0], 20, includeSelf: false, ct);
        Assert.DoesNotContain(others!, h => h.DocumentId == ids[0]);
        var nearest = others!.First(h => ids.Contains(h.DocumentId));
        Assert.Equal(ids[1], nearest.DocumentId); // the other e-mail
        Assert.Equal((2, "email", "dataset"), (nearest.Label, nearest.ClassName, nearest.LabelSource));
    }

    [Fact]
    public async Task ADocumentEmbeddedAgainIsOneNeighbourMatchedByItsNewestVector()
    {
        var ct = TestContext.Current.CancellationToken;
        var memo = await db.AddDocumentAsync(3);
        await db.AddProcessedImageAsync(memo, ProcessedPage("bootcamp_golden_dropsort/2_email/06_email_26865.tif"));
        await db.AddProcessedTextAsync(memo, "to from subject memorandum about the meeting");
        var other = await db.AddDocumentAsync(3);
        await db.AddProcessedImageAsync(other, ProcessedPage("bootcamp_golden_dropsort/2_email/07_email_24601.tif"));
        await db.AddProcessedTextAsync(other, "to from subject memorandum about the agenda");
        await Job().EmbedMissingAsync(100, ct);
        var store = new EmbeddingStore(db.DataSource);
        var first = (await store.FindAsync(other, EncoderIds.Default, "1", ct))!;
        // A newer text processor's text: the document gets a second vector of the same encoder, the first one stays.
        await db.AddProcessedTextAsync(other, "quarterly budget totals and expenses", "v2");
        Assert.Equal(1, await Job().EmbedMissingAsync(100, ct));
        var newest = (await store.FindAsync(other, EncoderIds.Default, "1", ct))!;
        Assert.NotEqual(first, newest);
        Assert.Equal(2, (await db.EmbeddingsAsync()).Count(r => r.DocumentId == other));

        var search = Search();
        var fromMemo = await search.FindSimilarToAsync(memo, SimilarDocumentSearch.MaxK, includeSelf: true, ct);
        var fromOther = await search.FindSimilarToAsync(other, SimilarDocumentSearch.MaxK, includeSelf: true, ct);

        Assert.Single(fromMemo!, h => h.DocumentId == other);
        Assert.Equal(fromMemo!.Select(h => h.DocumentId).Distinct().Count(), fromMemo!.Count);
        var memoVector = (await store.FindAsync(memo, EncoderIds.Default, "1", ct))!;
        Assert.Equal(CosineDistance(memoVector, newest), fromMemo.Single(h => h.DocumentId == other).Distance, 1e-4);
        Assert.Equal(other, fromOther![0].DocumentId); // itself, by its newest vector: at distance 0
        Assert.True(fromOther[0].Distance < 1e-5);
        Assert.Single(fromOther, h => h.DocumentId == other);

        static double CosineDistance(float[] a, float[] b)
        {
            double dot = 0, na = 0, nb = 0;
            for (var i = 0; i < a.Length; i++) (dot, na, nb) = (dot + a[i] * b[i], na + a[i] * a[i], nb + b[i] * b[i]);
            return 1 - dot / Math.Sqrt(na * nb);
        }
    }

    [Fact]
    public async Task SimilarQueryUsesTheEncodersHnswIndex()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var conn = await db.DataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // With few rows the planner would rightly scan; forbid that to see that the index matches the query.
        await conn.ExecuteAsync("SET LOCAL enable_seqscan = off", transaction: tx);
        var plan = string.Join("\n", await conn.QueryAsync<string>(
            "EXPLAIN " + SimilarDocumentSearch.SimilarSql(896),
            new { query = new Vector(new float[896]), encoder = EncoderIds.Default, version = "1", k = 5, exclude = (string?)null }, tx));

        Assert.Contains("embeddings_resnet18_minilm_hnsw_idx", plan);
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(Path.GetDirectoryName(Paths.DataDir)!, recursive: true);
    }
}

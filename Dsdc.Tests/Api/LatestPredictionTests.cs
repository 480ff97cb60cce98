using Dapper;
using Dsdc.Inference.Review;
using Dsdc.Tests.Embedding;

namespace Dsdc.Tests.Api;

/// <summary>
/// Each document's latest prediction, kept by the trigger on <c>inference.predictions</c> (<c>inference.latest_predictions</c>),
/// and the review queue that reads it, on a database of their own.
/// </summary>
public sealed class LatestPredictionTests(EmbeddingDatabase db) : IClassFixture<EmbeddingDatabase>
{
    private static readonly DateTime T0 = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task TheLatestPredictionFollowsNewerPredictionsChangesAndDeletions()
    {
        var ct = TestContext.Current.CancellationToken;
        var queue = new ReviewQueue(db.DataSource);
        var doc = await db.AddDocumentAsync();
        var first = await PredictAsync(doc, label: 2, top: 0.5, needsReview: true, T0);
        Assert.Equal((first, 2, true), await LatestAsync(doc));

        var second = await PredictAsync(doc, label: 4, top: 0.9, needsReview: true, T0.AddMinutes(1));
        Assert.Equal((second, 4, true), await LatestAsync(doc));
        Assert.Equal(new Dictionary<string, int> { [doc] = 4 }, await queue.PredictedClassesAsync([doc], ct));

        // Bulk confirmation reads the prediction the reviewer was shown, not a newer one, and never over a later human label.
        Assert.Equal(new Dictionary<string, int> { [doc] = 2 }, await queue.ShownPredictedClassesAsync([(doc, first)], ct));
        Assert.Empty(await queue.ShownPredictedClassesAsync([(doc, second + 1000)], ct));
        await ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source, created_by, created_at) VALUES (@doc, 9, 'human', 'colleague', @at)",
            new { doc, at = T0.AddSeconds(30) });
        Assert.Empty(await queue.ShownPredictedClassesAsync([(doc, first)], ct));
        Assert.Equal(new Dictionary<string, int> { [doc] = 4 }, await queue.ShownPredictedClassesAsync([(doc, second)], ct));
        await ExecuteAsync("DELETE FROM ingestion.labels WHERE document_id = @doc AND created_by = 'colleague'", new { doc });

        // Written later but made earlier (an older batch finishing late): the newer one stays the latest.
        var older = await PredictAsync(doc, label: 7, top: 0.3, needsReview: true, T0.AddMinutes(-1));
        Assert.Equal((second, 4, true), await LatestAsync(doc));

        // A change to the latest is followed; a change to an older one is not taken for the latest.
        await ExecuteAsync("UPDATE inference.predictions SET needs_review = false WHERE id = @second", new { second });
        Assert.Equal((second, 4, false), await LatestAsync(doc));
        await ExecuteAsync("UPDATE inference.predictions SET top_probability = 0.2 WHERE id = @first", new { first });
        Assert.Equal((second, 4, false), await LatestAsync(doc));

        // The latest removed: the newest that is left takes its place; the last one removed: nothing.
        await ExecuteAsync("DELETE FROM inference.predictions WHERE id = @second", new { second });
        Assert.Equal((first, 2, true), await LatestAsync(doc));
        await ExecuteAsync("DELETE FROM inference.predictions WHERE id = ANY(@ids)", new { ids = new[] { first, older } });
        Assert.Null(await LatestOrNullAsync(doc));
        Assert.Empty(await queue.PredictedClassesAsync([doc], ct));

        // Deleting the document takes its latest prediction with it.
        await PredictAsync(doc, label: 1, top: 0.6, needsReview: false, T0);
        await ExecuteAsync("DELETE FROM ingestion.original_documents WHERE id = @doc", new { doc });
        Assert.Null(await LatestOrNullAsync(doc));
    }

    [Fact]
    public async Task TheQueueCountsEveryWaitingDocumentAndFillsAPageWithTheNeverPredicted()
    {
        var ct = TestContext.Current.CancellationToken;
        await ExecuteAsync("DELETE FROM ingestion.original_documents", new { });
        var neverPredicted = await db.AddDocumentAsync();
        var unlabelledConfident = await db.AddDocumentAsync();
        await PredictAsync(unlabelledConfident, label: 3, top: 0.95, needsReview: false, T0);
        var labelledUncertain = await db.AddDocumentAsync(datasetLabel: 5);
        await PredictAsync(labelledUncertain, label: 6, top: 0.4, needsReview: true, T0);
        var labelledCertain = await db.AddDocumentAsync(datasetLabel: 5);
        await PredictAsync(labelledCertain, label: 5, top: 0.97, needsReview: false, T0);
        var reviewed = await db.AddDocumentAsync(datasetLabel: 8);
        await PredictAsync(reviewed, label: 9, top: 0.3, needsReview: true, T0);
        await db.AddLabelAsync(reviewed, 8, "human");
        // A newer prediction that needs review again brings a reviewed document back.
        var reviewedThenDoubted = await db.AddDocumentAsync(datasetLabel: 10);
        await PredictAsync(reviewedThenDoubted, label: 11, top: 0.35, needsReview: true, T0);
        await db.AddLabelAsync(reviewedThenDoubted, 10, "human");
        await PredictAsync(reviewedThenDoubted, label: 11, top: 0.45, needsReview: true, DateTime.UtcNow.AddMinutes(5));
        var queue = new ReviewQueue(db.DataSource);

        var page = await queue.NextAsync(10, ct);

        // Predicted documents first (one per class here: classes in turn, least certain first), then
        // the never-predicted; every item carries the count of the whole queue.
        Assert.Equal([labelledUncertain, reviewedThenDoubted, unlabelledConfident, neverPredicted], page.Select(i => i.DocumentId.Trim()));
        Assert.All(page, i => Assert.Equal(4L, i.Total));
        var first = page[0];
        Assert.Equal(((short?)6, (short?)5, "dataset", true), (first.Predicted, first.CurrentLabel, first.LabelSource, first.NeedsReview));
        Assert.Equal(16, first.Probabilities!.Length);
        var last = page[^1];
        Assert.Equal(((short?)null, (long?)null, (float[]?)null, (short?)null), (last.Predicted, last.PredictionId, last.Probabilities, last.CurrentLabel));

        // A short page holds predicted documents only, and the same count.
        var two = await queue.NextAsync(2, ct);
        Assert.Equal([labelledUncertain, reviewedThenDoubted], two.Select(i => i.DocumentId.Trim()));
        Assert.All(two, i => Assert.Equal(4L, i.Total));
    }

    [Fact]
    public async Task AClassWithFewLabelsOffersItsMostCertainDocumentsFirstAndTheLeastCertainOnceItHasEnough()
    {
        var ct = TestContext.Current.CancellationToken;
        await ExecuteAsync("DELETE FROM ingestion.original_documents", new { });
        // Class 2 has no label yet, class 6 has one fewer than the threshold, class 4 has as many as the threshold
        // (one of them on a document that waits for review, which counts too).
        for (var i = 0; i < ReviewQueue.TypicalFirstBelow - 1; i++) await db.AddDocumentAsync(datasetLabel: 6);
        for (var i = 0; i < ReviewQueue.TypicalFirstBelow - 1; i++) await db.AddDocumentAsync(datasetLabel: 4);
        var labelledDoubted = await db.AddDocumentAsync(datasetLabel: 4);
        await PredictAsync(labelledDoubted, label: 4, top: 0.6, needsReview: true, T0);
        async Task<string> UnlabelledAsync(int label, double top)
        {
            var doc = await db.AddDocumentAsync();
            await PredictAsync(doc, label, top, needsReview: true, T0);
            return doc;
        }
        var twoUnsure = await UnlabelledAsync(2, 0.41);
        var twoSure = await UnlabelledAsync(2, 0.92);
        var twoMiddle = await UnlabelledAsync(2, 0.66);
        var fourUnsure = await UnlabelledAsync(4, 0.43);
        var fourSure = await UnlabelledAsync(4, 0.94);
        var sixUnsure = await UnlabelledAsync(6, 0.45);
        var sixSure = await UnlabelledAsync(6, 0.90);
        var queue = new ReviewQueue(db.DataSource);

        var page = (await queue.NextAsync(20, ct)).Select(i => i.DocumentId.Trim()).ToList();

        // Each class in turn (within a turn the least certain first): classes 2 and 6 from their most certain down,
        // class 4 from its least certain up.
        Assert.Equal([fourUnsure, sixSure, twoSure, sixUnsure, labelledDoubted, twoMiddle, twoUnsure, fourSure], page);

        // Class 6 reaches the threshold with a person's label: it turns to its least certain too.
        await db.AddLabelAsync(sixSure, 6, "human");
        page = (await queue.NextAsync(20, ct)).Select(i => i.DocumentId.Trim()).ToList();
        Assert.Equal([fourUnsure, sixUnsure, twoSure, labelledDoubted, twoMiddle, twoUnsure, fourSure], page);
    }

    private async Task<long> PredictAsync(string documentId, int label, double top, bool needsReview, DateTime at)
    {
        var p = Enumerable.Repeat((float)((1 - top) / 15), 16).ToArray();
        p[label] = (float)top;
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("""
            INSERT INTO inference.predictions (document_id, user_name, model_run_id, model_id, label, confidence, top_probability, probabilities,
                                               duration_ms, needs_review, created_at)
            VALUES (@documentId, 'test', NULL, 'test', @label, @top, @top, @p, 1, @needsReview, @at) RETURNING id
            """, new { documentId, label = (short)label, top, p, needsReview, at });
    }

    private async Task<(long, int, bool)> LatestAsync(string documentId) =>
        await LatestOrNullAsync(documentId) ?? throw new Xunit.Sdk.XunitException($"no latest prediction for {documentId}");

    private async Task<(long, int, bool)?> LatestOrNullAsync(string documentId)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var rows = await conn.QueryAsync<(long, short, bool)>(
            "SELECT prediction_id, label, needs_review FROM inference.latest_predictions WHERE document_id = @documentId", new { documentId });
        return rows.Select(r => ((long, int, bool)?)(r.Item1, r.Item2, r.Item3)).SingleOrDefault();
    }

    private async Task ExecuteAsync(string sql, object args)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync(sql, args);
    }
}

using Dapper;
using Dsdc.Inference.Review;
using Dsdc.Tests.Infrastructure;
using Npgsql;

namespace Dsdc.Tests.Api;

/// <summary>The review queue's order and membership, against the database of the API tests.</summary>
[Collection(ApiCollection.Name)]
public sealed class ReviewQueueTests(ApiApp app)
{
    [Fact]
    public void TheClassesOfferedAreThoseTheModelCouldPredict()
    {
        // A model that knows two classes gives the other fourteen exactly 0: they are not offered as a third choice.
        var p = new float[16];
        (p[4], p[9]) = (0.7f, 0.3f);

        Assert.Equal([(4, 0.7f), (9, 0.3f)], new ReviewItem { Probabilities = p }.Top(3));
        Assert.Equal([(4, 0.7f)], new ReviewItem { Probabilities = p }.Top(1));
        Assert.Empty(new ReviewItem().Top(3));
    }

    [Fact]
    public async Task TheLeastCertainOfEachClassComeInTurnAndADecidedDocumentLeaves()
    {
        var ct = TestContext.Current.CancellationToken;
        // Known documents of two classes; near-uniform probabilities make them the least certain of the whole queue.
        var docs = app.Known.Where(k => k.Label is 9 or 10).GroupBy(k => k.Label).SelectMany(g => g.Skip(3).Take(2))
            .Select(k => UnseenDocuments.Sha1(k.Path)).ToArray();
        (string Id, short Label, double Top)[] predictions =
            [(docs[0], 3, 0.0630), (docs[1], 3, 0.0640), (docs[2], 5, 0.0645), (docs[3], 5, 0.0660)];
        await using (var conn = new NpgsqlConnection(app.Database.ConnectionString))
            foreach (var (id, label, top) in predictions)
            {
                var p = Enumerable.Repeat((float)((1 - top) / 15), 16).ToArray();
                p[label] = (float)top;
                await conn.ExecuteAsync("""
                    INSERT INTO inference.predictions (document_id, user_name, model_run_id, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
                    VALUES (@id, 'test', NULL, 'test', @label, 0.01, @top, @p, 1, true)
                    """, new { id, label, top, p });
            }
        var queue = app.Get<ReviewQueue>();

        var first = (await queue.NextAsync(500, ct)).Select(i => i.DocumentId).ToList();

        // Round robin over the predicted classes: the least certain of class 3, of class 5 (the two least certain of the
        // whole queue), then, after the least certain of every other class, the second of each.
        Assert.Equal([docs[0], docs[2]], first.Take(2));
        Assert.Equal([docs[0], docs[2], docs[1], docs[3]], first.Where(docs.Contains));

        // A person's label after the prediction takes the document out of the queue; the second of class 3 moves up.
        await app.Get<Dsdc.Inference.Api.PredictionStore>().AddHumanLabelAsync(docs[0], 3, "reviewer", ct);
        var next = (await queue.NextAsync(500, ct)).Select(i => i.DocumentId).ToList();
        Assert.Equal([docs[1], docs[2], docs[3]], next.Where(docs.Contains));
        Assert.Equal(new Dictionary<string, int> { [docs[1]] = 3 }, await queue.PredictedClassesAsync([docs[1]], ct));
    }
}

using System.Security.Cryptography;
using Dapper;
using Dsdc.Inference.Api;
using Dsdc.Inference.Review;
using Dsdc.Monitoring;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Npgsql;

namespace Dsdc.Tests.Api;

/// <summary>Stored documents nobody labelled are predicted from their stored inputs, once per served model.</summary>
[Collection(ApiCollection.Name)]
public sealed class NewDocumentPredictionsTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UnlabelledDocumentsArePredictedOnceFromTheirStoredInputsAsTheApiWouldAnswer()
    {
        // Two scanned pages no other test stores: stored with their lineage by an upload, whose prediction is then
        // removed, as for a document that came through the inbox.
        var pages = await TwoUnstoredPagesAsync(fromTheEnd: true);
        var ids = pages.Select(p => p.Id).ToArray();
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        await conn.OpenAsync(Ct);
        try
        {
            var answers = new Dictionary<string, PredictionOutcome>();
            foreach (var (id, path) in pages) answers[id] = await app.PredictAsync(path, "new-document-tests", Ct);
            await conn.ExecuteAsync("DELETE FROM inference.predictions WHERE document_id = ANY(@ids)", new { ids });
            var predictor = app.Get<NewDocumentPredictions>();
            static double Counted(Prometheus.Counter counter, int label) => counter.WithLabels(DocumentClasses.NameOf(label)).Value;
            var countedBefore = Enumerable.Range(0, 16).Select(c => Counted(DsdcMetrics.StoredDocumentPredictions, c)).ToArray();
            var reviewsBefore = Enumerable.Range(0, 16).Select(c => Counted(DsdcMetrics.StoredDocumentPredictionsNeedingReview, c)).ToArray();

            Assert.True(await predictor.PredictAsync(1000, Ct) >= 2);

            var rows = (await conn.QueryAsync<Row>(
                "SELECT document_id, user_name, model_id, label, needs_review, probabilities FROM inference.predictions WHERE document_id = ANY(@ids)",
                new { ids })).ToList();
            Assert.Equal(2, rows.Count);
            foreach (var row in rows)
            {
                var answer = answers[row.DocumentId.Trim()].Result;
                Assert.Equal((NewDocumentPredictions.UserName, $"run-{app.ChampionRunId}"), (row.UserName, row.ModelId));
                Assert.Equal((answer.Label, answer.NeedsReview), (row.Label, row.NeedsReview));
                for (var c = 0; c < 16; c++)
                    Assert.True(Math.Abs(answer.Probabilities[c] - row.Probabilities[c]) < 1e-4, $"class {c}: {answer.Probabilities[c]} vs {row.Probabilities[c]}");
            }
            // Counted for Prometheus by their class (other tests' runs may add to the same counters meanwhile).
            foreach (var label in rows.Select(r => r.Label).Distinct())
            {
                Assert.True(Counted(DsdcMetrics.StoredDocumentPredictions, label) - countedBefore[label] >= rows.Count(r => r.Label == label));
                Assert.True(Counted(DsdcMetrics.StoredDocumentPredictionsNeedingReview, label) - reviewsBefore[label]
                    >= rows.Count(r => r.Label == label && r.NeedsReview));
            }
            // Once per served model: a second run finds nothing; labelled documents are never predicted by it.
            Assert.Equal(0, await predictor.PredictAsync(1000, Ct));
            Assert.Equal(2L, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM inference.predictions WHERE document_id = ANY(@ids)", new { ids }));
            Assert.Equal(0L, await conn.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM inference.predictions p JOIN ingestion.current_labels l ON l.document_id = p.document_id WHERE p.user_name = @user",
                new { user = NewDocumentPredictions.UserName }));
            // The review queue now knows how sure the model is of them.
            var queue = await app.Get<ReviewQueue>().NextAsync(5000, Ct);
            Assert.All(ids, id => Assert.NotNull(Assert.Single(queue, q => q.DocumentId.Trim() == id).PredictionId));

            // Another model answered one of them since (then a rollback brought the champion back): the champion predicts
            // it again, once, so the queue reads the served model's answer.
            await conn.ExecuteAsync("""
                INSERT INTO inference.predictions (document_id, user_name, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
                SELECT document_id, user_name, 'run-999999', label, confidence, top_probability, probabilities, duration_ms, needs_review
                FROM inference.predictions WHERE document_id = @id
                """, new { id = ids[0] });
            Assert.Equal(1, await predictor.PredictAsync(1000, Ct));
            Assert.Equal(0, await predictor.PredictAsync(1000, Ct));

            // New arrivals before re-predictions: the older document waits to be predicted again (another model's answer is
            // its latest), the other has no prediction at all; one document a run takes the one nobody has an answer for.
            await conn.ExecuteAsync("UPDATE ingestion.original_documents SET ingested_at = now() - interval '1 day' WHERE id = @id", new { id = ids[0] });
            await conn.ExecuteAsync("""
                INSERT INTO inference.predictions (document_id, user_name, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
                SELECT document_id, user_name, 'run-999998', label, confidence, top_probability, probabilities, duration_ms, needs_review
                FROM inference.predictions WHERE document_id = @id ORDER BY id DESC LIMIT 1
                """, new { id = ids[0] });
            await conn.ExecuteAsync("DELETE FROM inference.predictions WHERE document_id = @id", new { id = ids[1] });
            async Task<Dictionary<string, string>> LatestModels() => (await conn.QueryAsync<(string DocumentId, string ModelId)>("""
                SELECT lp.document_id, p.model_id FROM inference.latest_predictions lp JOIN inference.predictions p ON p.id = lp.prediction_id
                WHERE lp.document_id = ANY(@ids)
                """, new { ids })).ToDictionary(r => r.DocumentId.Trim(), r => r.ModelId);
            Assert.Equal(1, await predictor.PredictAsync(1, Ct));
            Assert.Equal(new Dictionary<string, string> { [ids[0]] = "run-999998", [ids[1]] = $"run-{app.ChampionRunId}" }, await LatestModels());
            Assert.Equal(1, await predictor.PredictAsync(1, Ct));
            Assert.Equal(new Dictionary<string, string> { [ids[0]] = $"run-{app.ChampionRunId}", [ids[1]] = $"run-{app.ChampionRunId}" }, await LatestModels());
            Assert.Equal(0, await predictor.PredictAsync(1000, Ct));

            // A document labelled after it was read is not predicted: its label stays the newest word on it.
            await conn.ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@id, 3, 'human', 'tester')", new { id = ids[1] });
            Assert.Null(await app.Get<PredictionStore>().RecordIfUnlabelledAsync(ids[1], NewDocumentPredictions.UserName, answers[ids[1]].Result, 1, Ct));
            Assert.NotNull(await app.Get<PredictionStore>().RecordIfUnlabelledAsync(ids[0], NewDocumentPredictions.UserName, answers[ids[0]].Result, 1, Ct));

            // The job's answers that newer ones replaced more than Inference:KeepReplacedPredictionsDays (30) ago are
            // deleted as it runs; each document's latest answer, one replaced 10 days ago however old it is itself, and a
            // person's prediction however old, are kept.
            await conn.ExecuteAsync("UPDATE inference.predictions SET created_at = created_at - interval '40 days' WHERE document_id = ANY(@ids)", new { ids });
            var replacedLately = await conn.QueryFirstAsync<long>(
                "SELECT id FROM inference.predictions WHERE document_id = @id ORDER BY created_at DESC, id DESC OFFSET 1 LIMIT 1", new { id = ids[0] });
            await conn.ExecuteAsync("""
                UPDATE inference.predictions SET created_at = now() - interval '10 days'
                WHERE id = (SELECT id FROM inference.predictions WHERE document_id = @id ORDER BY created_at DESC, id DESC LIMIT 1)
                """, new { id = ids[0] });
            await conn.ExecuteAsync("""
                INSERT INTO inference.predictions (document_id, user_name, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review, created_at)
                SELECT document_id, 'a-person', model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review, now() - interval '50 days'
                FROM inference.predictions WHERE document_id = @id ORDER BY id LIMIT 1
                """, new { id = ids[0] });
            const string jobRows = "SELECT id FROM inference.predictions WHERE document_id = ANY(@ids) AND user_name = @user ORDER BY id";
            var latest = (await conn.QueryAsync<long>("SELECT prediction_id FROM inference.latest_predictions WHERE document_id = ANY(@ids) ORDER BY prediction_id",
                new { ids })).ToList();
            var jobBefore = (await conn.QueryAsync<long>(jobRows, new { ids, user = NewDocumentPredictions.UserName })).ToList();
            Assert.Equal(2, latest.Count);
            Assert.True(jobBefore.Count >= 5, $"{jobBefore.Count} answers of the job");
            Assert.DoesNotContain(replacedLately, latest);
            Assert.Subset(jobBefore.ToHashSet(), latest.ToHashSet());

            // The job looks for them as it runs, at most once an hour while it finds fewer than a batch: its runs above
            // looked already, so the next one leaves them; one due to look deletes them.
            Assert.Equal(0, await predictor.PredictAsync(1000, Ct));
            Assert.Equal(jobBefore, await conn.QueryAsync<long>(jobRows, new { ids, user = NewDocumentPredictions.UserName }));
            predictor.LookForReplacedAtNextRun();
            Assert.Equal(0, await predictor.PredictAsync(1000, Ct));

            Assert.Equal(latest.Append(replacedLately).Order(), await conn.QueryAsync<long>(jobRows, new { ids, user = NewDocumentPredictions.UserName }));
            Assert.Equal(latest, await conn.QueryAsync<long>("SELECT prediction_id FROM inference.latest_predictions WHERE document_id = ANY(@ids) ORDER BY prediction_id",
                new { ids }));
            Assert.Equal(1L, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM inference.predictions WHERE document_id = ANY(@ids) AND user_name = 'a-person'", new { ids }));
            Assert.Equal(0, await predictor.PruneReplacedAsync(Ct));
        }
        finally
        {
            await conn.ExecuteAsync("DELETE FROM ingestion.original_documents WHERE id = ANY(@ids)", new { ids });
        }
    }

    /// <summary>
    /// A document whose stored processed page cannot be read is passed over, and the documents after it are still
    /// predicted: it is selected first every time, so failing the job for it would leave them unpredicted for good.
    /// </summary>
    [Fact]
    public async Task ADocumentWhoseStoredPageCannotBeReadDoesNotHoldUpTheOthers()
    {
        var pages = await TwoUnstoredPagesAsync(fromTheEnd: false);
        var ids = pages.Select(p => p.Id).ToArray();
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        await conn.OpenAsync(Ct);
        try
        {
            foreach (var (_, path) in pages) await app.PredictAsync(path, "new-document-tests", Ct);
            await conn.ExecuteAsync("DELETE FROM inference.predictions WHERE document_id = ANY(@ids)", new { ids });
            // The first one, which the job reads first, has its processed page damaged on disk.
            await conn.ExecuteAsync("UPDATE ingestion.original_documents SET ingested_at = now() - interval '1 day' WHERE id = @id", new { id = ids[0] });
            var damaged = await conn.ExecuteScalarAsync<string>("SELECT file_path FROM pipeline.processed_images WHERE document_id = @id", new { id = ids[0] });
            Assert.NotNull(damaged);
            await File.WriteAllBytesAsync(Path.Combine(app.Get<DsdcPaths>().DataDir, damaged), "not a PNG any more"u8.ToArray(), Ct);

            // One document a run: the first run meets the damaged page alone; the next ones pass over it (for an hour)
            // instead of meeting it first again and again.
            var job = app.Get<NewDocumentPredictions>();
            Assert.Equal(0, await job.PredictAsync(1, Ct));
            Assert.Equal(1, await job.PredictAsync(1, Ct));
            await job.PredictAsync(1000, Ct);

            var predicted = (await conn.QueryAsync<string>("SELECT document_id FROM inference.predictions WHERE document_id = ANY(@ids)", new { ids }))
                .Select(id => id.Trim()).ToList();
            Assert.Equal([ids[1]], predicted);
        }
        finally
        {
            await conn.ExecuteAsync("DELETE FROM ingestion.original_documents WHERE id = ANY(@ids)", new { ids });
        }
    }

    /// <summary>Two scanned pages (PNG) that neither the app's corpus nor another test has stored, with their ids; taken
    /// from either end of the datasets so that the two tests never take the same ones.</summary>
    private async Task<List<(string Id, string Path)>> TwoUnstoredPagesAsync(bool fromTheEnd)
    {
        var candidates = Fixtures.Labelled().Where(d => d.Path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) && !app.Known.Contains(d)).ToList();
        if (fromTheEnd) candidates.Reverse();
        var pages = new List<(string Id, string Path)>();
        foreach (var (path, _) in candidates)
        {
            var id = Convert.ToHexStringLower(SHA1.HashData(await File.ReadAllBytesAsync(path, Ct)));
            if (await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE id = @id", new { id }) == 0) pages.Add((id, path));
            if (pages.Count == 2) break;
        }
        Assert.Equal(2, pages.Count);
        return pages;
    }

    /// <summary>A class: Npgsql reads real[] as an Array that Dapper's constructor matching refuses.</summary>
    private sealed class Row
    {
        public string DocumentId { get; init; } = "";
        public string UserName { get; init; } = "";
        public string ModelId { get; init; } = "";
        public short Label { get; init; }
        public bool NeedsReview { get; init; }
        public float[] Probabilities { get; init; } = [];
    }

}

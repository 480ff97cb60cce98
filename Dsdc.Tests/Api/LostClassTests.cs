using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dsdc.Inference;
using Dsdc.Inference.Api;
using Dsdc.Shared;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;

namespace Dsdc.Tests.Api;

/// <summary>
/// A class with no label is never predicted: when corrections take the last label away from a class the champion was
/// trained on, serving stops predicting it at once, without waiting for the next training job.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class LostClassTests(ApiApp app)
{
    [Fact]
    public async Task AClassThatLostItsLastLabelIsNoLongerPredictedNorListedAsKnown()
    {
        var ct = TestContext.Current.CancellationToken;
        var classifier = app.Get<IDocumentClassifier>();
        var data = await app.Get<TrainingDataLoader>().LoadAsync(ct, withPages: true);
        var pages = data.PagesOf([.. data.Train, .. data.Validation, .. data.Test]);
        // A class the champion answers for one of its own documents, and every document labelled with it.
        (int Label, PageInputs Inputs, Classification Answer)? found = null;
        foreach (var p in pages)
            if (await classifier.ClassifyInputsAsync(p.Inputs, ct) is { } answer && answer.Label == p.Label)
            {
                found = (p.Label, p.Inputs, answer);
                break;
            }
        var (lost, page, before) = found ?? throw new InvalidOperationException("the champion answers none of its documents right");
        // A page the champion answers with another class, giving the lost one some probability.
        (PageInputs Inputs, Classification Answer)? bystander = null;
        foreach (var p in pages)
            if (await classifier.ClassifyInputsAsync(p.Inputs, ct) is { } answer && answer.Label != lost && answer.Probabilities[lost] > 0)
            {
                bystander = (p.Inputs, answer);
                break;
            }
        Assert.NotNull(bystander);
        Assert.Contains(lost, before.KnownClasses);
        var documents = await app.QueryAsync<string>(
            "SELECT l.document_id FROM ingestion.current_labels l JOIN ingestion.documents d ON d.id = l.document_id WHERE l.label = @lost", new { lost });
        Assert.NotEmpty(documents);
        var other = (lost + 1) % DocumentClasses.Count;
        var started = await app.ScalarAsync<DateTime>("SELECT now()");
        using var client = await app.CreateClientWithRoleAsync(Dsdc.Auth.Roles.User);
        var relabelled = documents.ToList();
        try
        {
            foreach (var id in documents)
            {
                var response = await client.PostAsJsonAsync($"/api/v1/documents/{id}/label", new { label = other }, ct);
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            }

            // The same model, the same inputs: its first choice has no label now, so its next one answers, flagged for review.
            var after = await classifier.ClassifyInputsAsync(page, ct);
            Assert.Equal(before.ModelRunId, after.ModelRunId);
            Assert.NotEqual(lost, after.Label);
            Assert.Equal(0f, after.Probabilities[lost]);
            Assert.Equal(1.0, after.Probabilities.Sum(p => (double)p), 5);
            Assert.True(after.NeedsReview);
            Assert.DoesNotContain(lost, after.KnownClasses);
            Assert.Equal(before.KnownClasses.Count - 1, after.KnownClasses.Count);
            // The others keep their order.
            var ranked = Enumerable.Range(0, DocumentClasses.Count).Where(c => c != lost && before.Probabilities[c] > 0)
                .OrderByDescending(c => before.Probabilities[c]).ToList();
            Assert.Equal(ranked[0], after.Label);

            // The model's own first choice still answers, with its probability rescaled; whether it needs review is decided on
            // the probability the review threshold was measured on, as before.
            var still = await classifier.ClassifyInputsAsync(bystander.Value.Inputs, ct);
            Assert.Equal(bystander.Value.Answer.Label, still.Label);
            Assert.True(still.TopProbability > bystander.Value.Answer.TopProbability);
            Assert.Equal(bystander.Value.Answer.NeedsReview, still.NeedsReview);

            using var status = JsonDocument.Parse(await client.GetStringAsync("/api/v1/status", ct));
            var known = status.RootElement.GetProperty("knownClasses").EnumerateArray().Select(c => c.GetString()).ToList();
            Assert.DoesNotContain(DocumentClasses.NameOf(lost), known);
            Assert.Contains("have no labelled document now and are not predicted", status.RootElement.GetProperty("message").GetString());

            // A first label of that class on a document nobody had labelled: the class is predicted again at once.
            var upload = await ApiRequests.JsonAsync(await client.PredictAsync(ApiRequests.File(Fixtures.PngBlankPage(677, 455), "page.png")));
            var fresh = upload.GetProperty("documentId").GetString()!;
            relabelled.Add(fresh);
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/v1/documents/{fresh}/label", new { label = lost }, ct)).StatusCode);
            Assert.Contains(lost, (await classifier.ClassifyInputsAsync(page, ct)).KnownClasses);
        }
        finally
        {
            // The collection's labels as they were.
            await app.ScalarAsync<long>("WITH d AS (DELETE FROM ingestion.labels WHERE source = 'human' AND created_at >= @started AND document_id = ANY(@documents) RETURNING 1) SELECT count(*) FROM d",
                new { started, documents = relabelled.ToArray() });
            await app.Get<PredictionStore>().LabelsChangedAsync();
        }
        Assert.Contains(lost, (await classifier.ClassifyInputsAsync(page, ct)).KnownClasses);
    }

    [Fact]
    public void OnlyTheKnownClassesStillLabelledAreServedAndNeverNone()
    {
        IReadOnlyList<int> known = [0, 2, 5, 7];
        Assert.Equal(known, LabelledClasses.Servable(known, null));
        Assert.Equal([0, 5, 7], LabelledClasses.Servable(known, new HashSet<int> { 0, 5, 7, 9 }));
        Assert.Equal(known, LabelledClasses.Servable(known, new HashSet<int> { 0, 2, 5, 7, 11 }));
        Assert.Equal(known, LabelledClasses.Servable(known, new HashSet<int>()));

        var p = LabelledClasses.Restrict([0.5f, 0f, 0.3f, 0.2f], [2, 3]);
        Assert.Equal([0f, 0f, 0.6f, 0.4f], p.Select(x => MathF.Round(x, 6)));
        Assert.Equal([0f, 0f, 0.5f, 0.5f], LabelledClasses.Restrict([1f, 0f, 0f, 0f], [2, 3]));
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Dsdc.Auth;
using Dsdc.Shared;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class PredictTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PredictClassifiesARealPageAndRecordsWhoAskedWithWhichModel()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var unseen = Fixtures.Labelled().First(d => d.Path.EndsWith(".tif") && !app.Known.Contains(d));

        var response = await client.PredictAsync(ApiRequests.File(unseen.Path));

        var body = await ApiRequests.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        var label = body.GetProperty("label").GetInt32();
        Assert.InRange(label, 0, 15);
        Assert.Equal(DocumentClasses.NameOf(label), body.GetProperty("className").GetString());
        var probabilities = body.GetProperty("probabilities").EnumerateArray().Select(p => p.GetDouble()).ToList();
        Assert.Equal(16, probabilities.Count);
        Assert.Equal(1.0, probabilities.Sum(), 3);
        Assert.Equal(probabilities.Max(), body.GetProperty("topProbability").GetDouble(), 5);
        Assert.InRange(body.GetProperty("confidence").GetDouble(), 0, 1);
        Assert.Equal($"run-{app.ChampionRunId}", body.GetProperty("modelId").GetString());
        // Review: below the served model's threshold (from its cross-validated accuracy-coverage curve) and only then.
        var threshold = app.Get<Dsdc.Training.ModelRegistry>().Artifact(app.ChampionRunId).Manifest.ReviewThreshold;
        Assert.NotNull(threshold);
        var needsReview = body.GetProperty("needsReview").GetBoolean();
        Assert.Equal(body.GetProperty("topProbability").GetDouble() < threshold, needsReview);
        Assert.False(body.GetProperty("zeroShot").GetBoolean());
        Assert.Equal(DocumentClasses.Names, body.GetProperty("knownClasses").EnumerateArray().Select(c => c.GetString()!).ToList());
        var id = Convert.ToHexStringLower(SHA1.HashData(await File.ReadAllBytesAsync(unseen.Path, Ct)));
        Assert.Equal(id, body.GetProperty("documentId").GetString());
        Assert.True(body.GetProperty("timingsMs").GetProperty("ocr").GetDouble() > 0);
        // A new document has no stored embedding yet: its neighbours come from this prediction's own vector.
        Assert.NotEmpty(body.GetProperty("similarDocuments").EnumerateArray());

        var recorded = await app.ScalarAsync<string>(
            "SELECT user_name || '|' || needs_review || '|' || model_run_id || '|' || label FROM inference.predictions WHERE id = @id",
            new { id = body.GetProperty("predictionId").GetInt64() });
        Assert.EndsWith($"|{(needsReview ? "true" : "false")}|{app.ChampionRunId}|{label}", recorded);
        Assert.StartsWith("user-", recorded);
        // The record keeps the threshold it was judged against, so that the prediction page can say why it needs review.
        Assert.Equal(threshold, await app.ScalarAsync<double?>("SELECT review_threshold FROM inference.predictions WHERE id = @id",
            new { id = body.GetProperty("predictionId").GetInt64() }));
        // The upload is kept with its lineage, so that a correction can feed the next training.
        Assert.Equal(".upload", await app.ScalarAsync<string>("SELECT source_folder FROM ingestion.original_documents WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task PredictOnAKnownDocumentListsSimilarDocumentsWithTheirLabels()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var known = app.Known[0];

        var response = await client.PredictAsync(ApiRequests.File(known.Path));

        var body = await ApiRequests.JsonAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var similar = body.GetProperty("similarDocuments").EnumerateArray().ToList();
        Assert.NotEmpty(similar);
        // Uploads keep the embedding their prediction computed, so an unlabelled upload can be a neighbour: a neighbour
        // carries a class exactly when it has a label.
        foreach (var s in similar)
        {
            var labelled = await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id", new { id = s.GetProperty("documentId").GetString() }) > 0;
            if (labelled) Assert.InRange(s.GetProperty("label").GetInt32(), 0, 15);
            else Assert.Equal(JsonValueKind.Null, s.GetProperty("label").ValueKind);
        }
        Assert.Contains(similar, s => s.GetProperty("label").ValueKind == JsonValueKind.Number);
        Assert.DoesNotContain(similar, s => s.GetProperty("documentId").GetString() == body.GetProperty("documentId").GetString());
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE id = @id",
            new { id = body.GetProperty("documentId").GetString() }));
    }

    [Fact]
    public async Task PredictReadsABornDigitalPdf()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        var response = await client.PredictAsync(ApiRequests.File(Fixtures.First(".pdf").Path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ACorrectionBecomesAHumanLabel()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var predicted = await ApiRequests.JsonAsync(await client.PredictAsync(ApiRequests.File(Fixtures.First(".png").Path)));
        var id = predicted.GetProperty("documentId").GetString();

        var response = await client.PostAsJsonAsync($"/api/v1/documents/{id}/label", new { label = 14 }, Ct);

        var body = await ApiRequests.JsonAsync(response);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("resume", body.GetProperty("className").GetString());
        Assert.Equal("human", body.GetProperty("source").GetString());
        Assert.Equal(14, await app.ScalarAsync<int>(
            "SELECT label FROM ingestion.labels WHERE document_id = @id AND source = 'human' ORDER BY created_at DESC LIMIT 1", new { id }));
    }

    [Fact]
    public async Task AnInvalidLabelOrAnUnknownDocumentIsRefused()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var id = await app.ScalarAsync<string>("SELECT id FROM ingestion.original_documents LIMIT 1");

        var invalid = await client.PostAsJsonAsync($"/api/v1/documents/{id}/label", new { label = 16 }, Ct);
        var unknown = await client.PostAsJsonAsync($"/api/v1/documents/{new string('0', 40)}/label", new { label = 1 }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(-1)]
    [InlineData(null)]
    public async Task AnOutOfRangeOrMissingLabelGetsAValidationProblemNamingTheField(int? label)
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var id = await app.ScalarAsync<string>("SELECT id FROM ingestion.original_documents LIMIT 1");
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE source = 'human'");

        var response = await client.PostAsJsonAsync($"/api/v1/documents/{id}/label", new { label }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await ApiRequests.JsonAsync(response)).GetProperty("errors");
        Assert.Contains(errors.EnumerateObject(), e => e.Name.Equals("label", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE source = 'human'"));
    }
}

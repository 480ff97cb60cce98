using System.Net;
using System.Text.Json;
using Dsdc.Auth;
using Microsoft.Extensions.DependencyInjection;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class ModelApiTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task APlainUserCannotReachTheModelRegistry()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/models", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/api/v1/models/rollback", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync($"/api/v1/models/{app.ChampionRunId}/promote", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/v1/models/{app.ChampionRunId}/documents", Ct)).StatusCode);
    }

    [Fact]
    public async Task EveryRunOfAJobNamesTheDocumentsItWasFittedOnWithTheirLabelsAndStoredVectors()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.ModelAdmin);

        var response = await client.GetAsync($"/api/v1/models/{app.ChampionRunId}/documents", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(Ct);
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("document_id,label,class,vector_id,has_regions", lines[0]);
        var rows = lines[1..].Select(l => l.Split(',')).ToList();
        // Every document the job found labelled (the seeded ones: other tests label more afterwards), once, with the label
        // it was trained with and the vector stored for it.
        await using var conn = await app.Services.GetRequiredService<Npgsql.NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var encoder = app.Get<Dsdc.Embedding.IDocumentEncoder>();
        var vectors = (await Dapper.SqlMapper.QueryAsync<(string DocumentId, long VectorId)>(conn, """
            SELECT DISTINCT ON (document_id) document_id, id FROM embedding.vectors WHERE encoder = @Id AND encoder_version = @Version
            ORDER BY document_id, created_at DESC, id DESC
            """, new { encoder.Id, encoder.Version }))
            .ToDictionary(v => v.DocumentId, v => v.VectorId);
        var expected = app.Known
            .Select(k => (Id: Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(k.Path))), k.Label))
            .OrderBy(k => k.Id, StringComparer.Ordinal)
            .Select(k => $"{k.Id},{k.Label},{Dsdc.Shared.DocumentClasses.Names[k.Label]},{vectors[k.Id]}");
        Assert.Equal(expected, rows.Select(r => string.Join(',', r[..4])));
        Assert.All(rows, r => Assert.Contains(r[4], new[] { "true", "false" }));
        // The job's other runs were fitted on the same documents.
        using var list = JsonDocument.Parse(await client.GetStringAsync("/api/v1/models?limit=1000", Ct));
        var others = list.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("run"))
            .Where(r => r.GetProperty("status").GetString() == "succeeded" && r.GetProperty("triggeredBy").GetString() == "api-tests")
            .Select(r => r.GetProperty("id").GetInt64()).ToList();
        Assert.Contains(app.ChampionRunId, others);
        foreach (var run in others)
            Assert.Equal(body, await client.GetStringAsync($"/api/v1/models/{run}/documents", Ct));

        // The CLI writes the same CSV; a run without a recorded set is refused with the reason.
        var output = new StringWriter();
        var command = new Dsdc.Training.ModelsCommand(app.Get<Dsdc.Training.ModelRegistry>(), app.Get<Dsdc.Training.TrainingStore>()) { Output = output };
        Assert.Equal(0, await command.RunAsync(["documents", app.ChampionRunId.ToString(System.Globalization.CultureInfo.InvariantCulture)], Ct));
        Assert.Equal(body, output.ToString());
        Assert.Equal(1, await command.RunAsync(["documents", "999999"], Ct));
    }

    [Fact]
    public async Task TheDocumentsOfAnUnknownRunAre404()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.ModelAdmin);

        var response = await client.GetAsync("/api/v1/models/999999/documents", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AModelAdminListsRunsWithTheChampionMarked()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.ModelAdmin);

        var response = await client.GetAsync("/api/v1/models", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(app.ChampionRunId, json.RootElement.GetProperty("championRunId").GetInt64());
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Contains(runs, r => r.GetProperty("champion").GetBoolean() && r.GetProperty("run").GetProperty("id").GetInt64() == app.ChampionRunId);
        Assert.NotEmpty(json.RootElement.GetProperty("promotions").EnumerateArray());

        // Paging: limit takes the newest, before the ones older than a run, newest first.
        static async Task<long[]> IdsAsync(HttpClient client, string query)
        {
            using var page = JsonDocument.Parse(await client.GetStringAsync("/api/v1/models" + query, Ct));
            return page.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("run").GetProperty("id").GetInt64()).ToArray();
        }
        var all = await IdsAsync(client, "?limit=1000");
        Assert.True(all.Length >= 2, $"{all.Length} run(s)");
        Assert.Equal(all.Order().Reverse(), all);
        Assert.Equal(all[..1], await IdsAsync(client, "?limit=1"));
        Assert.Equal(all[1..2], await IdsAsync(client, $"?limit=1&before={all[0]}"));
        Assert.Equal(all[1..], await IdsAsync(client, $"?limit=1000&before={all[0]}"));
        Assert.Empty(await IdsAsync(client, $"?before={all[^1]}"));
    }

    [Fact]
    public async Task PromotingAnUnknownRunIs404AndRollingBackWithoutPredecessorIs409()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.Admin);

        var unknown = await client.PostAsync("/api/v1/models/999999/promote", null, Ct);
        var already = await client.PostAsync($"/api/v1/models/{app.ChampionRunId}/promote", null, Ct);
        var reload = await client.PostAsync("/api/v1/models/reload", null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, already.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
    }

    [Fact]
    public async Task StatusNamesTheServedModelWithoutAuthentication()
    {
        using var client = app.CreateClient();

        using var json = JsonDocument.Parse(await client.GetStringAsync("/api/v1/status", Ct));

        Assert.Equal("ready", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(app.ChampionRunId, json.RootElement.GetProperty("modelRunId").GetInt64());
        Assert.Equal(896, json.RootElement.GetProperty("dimensions").GetInt32());
    }
}

/// <summary>An app where nothing was trained yet: the zero-shot model answers, and says so.</summary>
public sealed class NoModelApiTests : IAsyncLifetime
{
    private readonly NoModelApp _app = new();

    private sealed class NoModelApp : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Pipeline:Enabled"] = "false", ["Jobs:Server"] = "false", ["Training:Enabled"] = "false",
            ["Inference:ReloadIntervalSeconds"] = "0",
        };
    }

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task BeforeAnyTrainingTheZeroShotModelAnswersAndEveryPredictionNeedsReview()
    {
        using var client = await _app.CreateClientWithRoleAsync(Roles.User);
        var reviews = Dsdc.Shared.DocumentClasses.Names.Sum(n => Dsdc.Monitoring.DsdcMetrics.PredictionsNeedingReview.WithLabels(n).Value);

        var response = await client.PredictAsync(ApiRequests.File(Fixtures.First(".png").Path));

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(Dsdc.Inference.ZeroShotModel.Id, json.RootElement.GetProperty("modelId").GetString());
        Assert.True(json.RootElement.GetProperty("zeroShot").GetBoolean());
        Assert.True(json.RootElement.GetProperty("needsReview").GetBoolean());
        // Counted for the dashboards as a prediction needing review (the process's counter: other tests may add to it).
        Assert.True(Dsdc.Shared.DocumentClasses.Names.Sum(n => Dsdc.Monitoring.DsdcMetrics.PredictionsNeedingReview.WithLabels(n).Value) >= reviews + 1);
        Assert.Equal(16, json.RootElement.GetProperty("knownClasses").GetArrayLength());
        Assert.Equal(1.0, json.RootElement.GetProperty("probabilities").EnumerateArray().Sum(p => p.GetDouble()), 3);
        await using var conn = new Npgsql.NpgsqlConnection(_app.Database.ConnectionString);
        Assert.Equal($"{Dsdc.Inference.ZeroShotModel.Id}|true|null", await Dapper.SqlMapper.ExecuteScalarAsync<string>(conn,
            "SELECT model_id || '|' || needs_review || '|' || coalesce(model_run_id::text, 'null') FROM inference.predictions WHERE id = @id",
            new { id = json.RootElement.GetProperty("predictionId").GetInt64() }));

        // An earlier version of the zero-shot model answered it (recorded under the id "zero-shot"): the recurring
        // prediction of unlabelled documents answers it again, once, with today's version, so the review queue reads it.
        var documentId = json.RootElement.GetProperty("documentId").GetString();
        await Dapper.SqlMapper.ExecuteAsync(conn, "UPDATE inference.predictions SET model_id = 'zero-shot' WHERE document_id = @documentId", new { documentId });
        var predictor = _app.Services.GetRequiredService<Dsdc.Inference.Review.NewDocumentPredictions>();
        Assert.Equal(1, await predictor.PredictAsync(100, TestContext.Current.CancellationToken));
        Assert.Equal(0, await predictor.PredictAsync(100, TestContext.Current.CancellationToken));
        Assert.Equal(Dsdc.Inference.ZeroShotModel.Id, await Dapper.SqlMapper.ExecuteScalarAsync<string>(conn, """
            SELECT p.model_id FROM inference.latest_predictions lp JOIN inference.predictions p ON p.id = lp.prediction_id WHERE lp.document_id = @documentId
            """, new { documentId }));
    }

    [Fact]
    public async Task StatusSaysThatNoTrainedModelExistsYet()
    {
        using var client = _app.CreateClient();

        using var json = JsonDocument.Parse(await client.GetStringAsync("/api/v1/status", TestContext.Current.CancellationToken));

        Assert.Equal("zero-shot", json.RootElement.GetProperty("status").GetString());
        Assert.False(json.RootElement.GetProperty("trainedModel").GetBoolean());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("modelRunId").ValueKind);
        Assert.Contains("No trained model exists yet", json.RootElement.GetProperty("message").GetString());
    }
}

using System.Net;
using Dsdc.Auth;
using Dsdc.Tests.Api;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using static Dsdc.Tests.Hardening.HardeningRequests;

namespace Dsdc.Tests.Hardening;

/// <summary>Issue 14, defect 7: with no model, a bad file is still told what is wrong with it first; "no model" says when to retry.</summary>
public sealed class NoModelPredictTests(NoModelPredictTests.App app) : IClassFixture<NoModelPredictTests.App>
{
    public sealed class App : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false", ["Pipeline:Enabled"] = "false", ["Training:Enabled"] = "false",
            ["Inference:ReloadIntervalSeconds"] = "0", ["Auth:UserCacheSeconds"] = "0", ["Inference:ZeroShot"] = "false",
        };
    }

    [Fact]
    public async Task AnEmptyOrUnsupportedFileIsRefusedForWhatItIsBeforeNoModel()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        await AssertProblemAsync(await client.PredictAsync(ApiRequests.File([], "empty.png")), HttpStatusCode.UnprocessableEntity);
        await AssertProblemAsync(await client.PredictAsync(ApiRequests.File("just text"u8.ToArray(), "a.tif")), HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task AValidFileWithNoModelGets503WithRetryAfter()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        var response = await client.PredictAsync(ApiRequests.File(Fixtures.PngBlankPage(60, 80), "page.png"));

        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task AChampionThatCannotBeLoadedIsNamedInThe503()
    {
        var ct = TestContext.Current.CancellationToken;
        var classifier = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Dsdc.Inference.IDocumentClassifier>(app.Services);
        await using var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString);
        // A run promoted in the registry whose model folder is gone, and the zero-shot model switched off.
        var runId = await Dapper.SqlMapper.ExecuteScalarAsync<long>(conn, """
            WITH run AS (
                INSERT INTO training.runs (name, parameters, encoder, encoder_version, dimensions, seed, device, train_size, validation_size,
                                           test_size, status, artifact_path, triggered_by)
                VALUES ('fused-tvr', '{}', 'resnet18-minilm', '1', 896, 42, 'cpu', 32, 0, 0, 'succeeded', 'runs/1/model.onnx', 'test')
                RETURNING id)
            INSERT INTO training.promotions (run_id, kind, reason, promoted_by) SELECT id, 'manual', 'test', 'test' FROM run RETURNING run_id
            """);
        try
        {
            await Assert.ThrowsAsync<FileNotFoundException>(() => classifier.ReloadAsync(ct));
            using var client = await app.CreateClientWithRoleAsync(Roles.User);

            var response = await client.PredictAsync(ApiRequests.File(Fixtures.PngBlankPage(60, 80), "page.png"));

            await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            var detail = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("detail").GetString();
            Assert.Contains($"has no model files under runs/{runId} of the models folder", detail);
            Assert.DoesNotContain(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Dsdc.Shared.DsdcPaths>(app.Services).ModelsDir, detail);
            Assert.Contains("zero-shot model is switched off", detail);
            Assert.DoesNotContain("No model is promoted yet", detail);
        }
        finally
        {
            await Dapper.SqlMapper.ExecuteAsync(conn, "DELETE FROM training.promotions WHERE run_id = @runId; DELETE FROM training.runs WHERE id = @runId", new { runId });
            try { await classifier.ReloadAsync(ct); } catch (Exception) { /* nothing promoted any more */ }
        }
    }
}

using Dsdc.Inference;
using Dsdc.Tests.Api;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Inference;

public sealed class NoModelTests
{
    /// <summary>Why a champion cannot load reaches anonymous callers of the status: a path in the models folder is named
    /// relative to it, the folder by name, and neither a sibling folder that starts alike nor a folder at the root is mangled.</summary>
    [Fact]
    public void ALoadFailureNamesTheModelsFolderWithoutTheServersPath()
    {
        static Dsdc.Training.ModelRegistry Registry(string models) => new(null!, new Dsdc.Shared.DsdcPaths("/", new Dsdc.Shared.DsdcOptions { ModelsDir = models }),
            null!, Microsoft.Extensions.Logging.Abstractions.NullLogger<Dsdc.Training.ModelRegistry>.Instance);
        var registry = Registry("/srv/dsdc/models/");

        Assert.Equal("Load model from runs/5/model.onnx failed", registry.WithoutServerPaths("Load model from /srv/dsdc/models/runs/5/model.onnx failed"));
        Assert.Equal("Access to the path 'the models folder' is denied.", registry.WithoutServerPaths("Access to the path '/srv/dsdc/models' is denied."));
        Assert.Equal("see /srv/dsdc/models-old/runs/5", registry.WithoutServerPaths("see /srv/dsdc/models-old/runs/5"));
        Assert.Equal("see /srv/x", Registry("/").WithoutServerPaths("see /srv/x"));
    }

    [Fact]
    public async Task WithoutChampionClassifyingThrowsNoModel()
    {
        await using var app = new NoModelApp();
        await app.InitializeAsync();
        var classifier = app.Services.GetRequiredService<IDocumentClassifier>();
        Assert.Null(await classifier.ReloadAsync(TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<NoModelException>(() => classifier.ClassifyEmbeddingAsync(new float[896], TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<NoModelException>(() => classifier.ClassifyFileAsync(Fixtures.Labelled()[0].Path, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task EvaluateMeasuresTheZeroShotModelBeforeAnyTrainingAndRefusesWhenItIsOff()
    {
        var ct = TestContext.Current.CancellationToken;
        var dir = Directory.CreateTempSubdirectory("dsdc-evaluate-");
        try
        {
            foreach (var (path, label) in Fixtures.Labelled().GroupBy(k => k.Label).Take(2).Select(g => g.First()))
            {
                var folder = Directory.CreateDirectory(Path.Combine(dir.FullName, $"{label}_{Dsdc.Shared.DocumentClasses.NameOf(label).Replace(' ', '-')}"));
                File.Copy(path, Path.Combine(folder.FullName, Path.GetFileName(path)));
            }
            await using (var zeroShot = new ZeroShotApp())
            {
                await zeroShot.InitializeAsync();
                var e = await FolderEvaluation.RunAsync(zeroShot.Services.GetRequiredService<IDocumentClassifier>(), dir.FullName, 1, ct);
                Assert.True(e.ZeroShot);
                Assert.Null(e.ModelRunId);
                Assert.Equal(2, e.Scored.Count);
                Assert.Equal(2, e.NeedingReview);
                Assert.Null(e.AccuracyWithoutReview);
                Assert.Equal(0, await Evaluate(zeroShot).RunAsync([dir.FullName, "--json"], ct));
                // `predict` answers with the zero-shot model too, and says so.
                var output = new StringWriter();
                var file = Directory.EnumerateFiles(dir.FullName, "*", SearchOption.AllDirectories).First();
                Assert.Equal(0, await new PredictCommand(zeroShot.Services.GetRequiredService<IDocumentClassifier>()) { Output = output }.RunAsync([file], ct));
                var answer = System.Text.Json.JsonDocument.Parse(output.ToString()).RootElement;
                Assert.True(answer.GetProperty("zeroShot").GetBoolean());
                Assert.True(answer.GetProperty("needsReview").GetBoolean());
                Assert.Equal(ZeroShotModel.Id, answer.GetProperty("modelId").GetString());
            }
            await using var off = new NoModelApp();
            await off.InitializeAsync();
            Assert.Equal(3, await Evaluate(off).RunAsync([dir.FullName], ct));
            Assert.Equal(3, await new PredictCommand(off.Services.GetRequiredService<IDocumentClassifier>()).RunAsync([dir.FullName], ct));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AChampionWhoseFilesAreMissingIsSaidPlainlyWhileTheZeroShotModelAnswers()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new ZeroShotApp();
        await app.InitializeAsync();
        var classifier = app.Services.GetRequiredService<IDocumentClassifier>(); // starts the app: the schema is migrated
        // A run promoted in the registry, whose model folder is gone (another checkout's models folder, a lost volume).
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
            await Dapper.SqlMapper.ExecuteAsync(conn, """
                WITH run AS (
                    INSERT INTO training.runs (name, parameters, encoder, encoder_version, dimensions, seed, device, train_size, validation_size,
                                               test_size, status, artifact_path, triggered_by)
                    VALUES ('fused-tvr', '{}', 'resnet18-minilm', '1', 896, 42, 'cpu', 32, 0, 0, 'succeeded', 'runs/1/model.onnx', 'test')
                    RETURNING id)
                INSERT INTO training.promotions (run_id, kind, reason, promoted_by) SELECT id, 'manual', 'test', 'test' FROM run
                """);

        await Assert.ThrowsAsync<FileNotFoundException>(() => classifier.ReloadAsync(ct));

        Assert.Contains("has no model files", classifier.ChampionLoadFailure);
        // The status reaches anonymous callers: it names the run's folder within the models folder, never the server's path.
        var modelsDir = app.Services.GetRequiredService<Dsdc.Shared.DsdcPaths>().ModelsDir;
        Assert.Matches(@"under runs/\d+ of the models folder", classifier.ChampionLoadFailure);
        Assert.DoesNotContain(modelsDir, classifier.ChampionLoadFailure);
        var status = Dsdc.Inference.Api.ServingStatus.Describe(classifier, app.Services.GetRequiredService<Dsdc.Embedding.IDocumentEncoder>());
        Assert.Equal("zero-shot", status.Status);
        Assert.StartsWith("The promoted champion cannot be loaded (run ", status.Message);
        Assert.Contains("restore the models folder", status.Message);
        Assert.Contains("Meanwhile the zero-shot model", status.Message);
        Assert.DoesNotContain("No trained model exists yet", status.Message);
        Assert.True((await classifier.ClassifyFileAsync(Fixtures.Labelled()[0].Path, ct)).ZeroShot);

        // The API says so too, instead of a 500: predict answers with the zero-shot model, reload names the failure, and
        // promoting or rolling back to a run without its files is refused with the reason.
        using (var client = await app.CreateClientWithRoleAsync(Dsdc.Auth.Roles.ModelAdmin))
        {
            var predicted = await client.PredictAsync(Dsdc.Tests.Api.ApiRequests.File(Fixtures.Labelled()[0].Path));
            var body = await predicted.Content.ReadAsStringAsync(ct);
            Assert.True(predicted.IsSuccessStatusCode, body);
            Assert.Contains("\"zeroShot\":true", body);
            var reload = await client.PostAsync("/api/v1/models/reload", null, ct);
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, reload.StatusCode);
            Assert.Contains("has no model files", await reload.Content.ReadAsStringAsync(ct));
        }
        // So do the commands: `predict` answers with the zero-shot model instead of stopping on the load's exception,
        // and `evaluate` measures what serves.
        var output = new StringWriter();
        Assert.Equal(0, await new PredictCommand(classifier) { Output = output }.RunAsync([Fixtures.Labelled()[0].Path], ct));
        Assert.True(System.Text.Json.JsonDocument.Parse(output.ToString()).RootElement.GetProperty("zeroShot").GetBoolean());
        var one = Directory.CreateTempSubdirectory("dsdc-evaluate-");
        try
        {
            var (path, label) = Fixtures.Labelled()[0];
            var folder = Directory.CreateDirectory(Path.Combine(one.FullName, $"{label}_{Dsdc.Shared.DocumentClasses.NameOf(label).Replace(' ', '-')}"));
            File.Copy(path, Path.Combine(folder.FullName, Path.GetFileName(path)));
            var evaluated = await FolderEvaluation.RunAsync(classifier, one.FullName, 1, ct);
            Assert.True(evaluated.ZeroShot);
            Assert.Null(evaluated.ModelRunId);
            Assert.Equal(0, await Evaluate(app).RunAsync([one.FullName, "--json"], ct));
        }
        finally
        {
            one.Delete(recursive: true);
        }
        var runId = await app.Services.GetRequiredService<Dsdc.Training.ModelRegistry>().ChampionRunIdAsync(ct);

        // The recurring prediction of new documents, run by this process that cannot serve the champion, leaves them to one
        // that can: it never replaces the champion's answers with its stand-in's (and the next process back again).
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
        {
            await Dapper.SqlMapper.ExecuteAsync(conn, """
                INSERT INTO inference.predictions (document_id, user_name, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
                SELECT document_id, 'dsdc', 'run-' || @runId, label, confidence, top_probability, probabilities, duration_ms, false
                FROM inference.predictions
                """, new { runId });
            Assert.Equal(0, await app.Services.GetRequiredService<Dsdc.Inference.Review.NewDocumentPredictions>().PredictAsync(100, ct));
            Assert.Equal([$"run-{runId}"], await Dapper.SqlMapper.QueryAsync<string>(conn, """
                SELECT DISTINCT p.model_id FROM inference.latest_predictions lp JOIN inference.predictions p ON p.id = lp.prediction_id
                """));
        }
        var refused = await app.Services.GetRequiredService<Dsdc.Training.ModelRegistry>().PromoteAsync(runId!.Value, "test", null, ct);
        Assert.False(refused.Promoted);
        Assert.StartsWith($"run {runId} cannot serve: run {runId} has no model files", refused.Message);

        // Once nothing is promoted any more (rolled back past the first run), the failure is gone with it.
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
            await Dapper.SqlMapper.ExecuteAsync(conn, "DELETE FROM training.promotions");
        Assert.Null(await classifier.ReloadAsync(ct));
        Assert.Null(classifier.ChampionLoadFailure);
    }

    private static Dsdc.Shared.Cli.ICliCommand Evaluate(DsdcAppFactory app) =>
        app.Services.GetServices<Dsdc.Shared.Cli.ICliCommand>().Single(c => c.Name == "evaluate");

    private sealed class ZeroShotApp : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false", ["Pipeline:Enabled"] = "false", ["Training:Enabled"] = "false", ["Inference:ReloadIntervalSeconds"] = "0",
        };
    }

    private sealed class NoModelApp : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false", ["Pipeline:Enabled"] = "false", ["Training:Enabled"] = "false", ["Inference:ReloadIntervalSeconds"] = "0",
            ["Inference:ZeroShot"] = "false",
        };
    }
}

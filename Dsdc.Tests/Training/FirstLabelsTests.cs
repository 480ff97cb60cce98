using System.Net.Http.Json;
using System.Text.Json;
using Dsdc.Inference;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Training;

/// <summary>A fresh install with one labelled page per class: from the zero-shot model to a trained one, as labels arrive.</summary>
public sealed class FirstLabelsTests(FirstLabelsTests.App app) : IClassFixture<FirstLabelsTests.App>
{
    public sealed class App : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Pipeline:Enabled"] = "false", ["Jobs:Server"] = "false", ["Training:Enabled"] = "false",
            ["Inference:ReloadIntervalSeconds"] = "0", ["Training:CvRepeats"] = "1",
        };

        public IReadOnlyList<(string Path, int Label)> Documents { get; private set; } = [];

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            Documents = await CorpusSeeder.IngestLabelledAsync(Services, 1, ".tif", ".png");
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private T Get<T>() where T : notnull => app.Services.GetRequiredService<T>();

    [Fact]
    public async Task AModelTrainsAndServesFromTwoClassesThenFromOneDocumentPerClass()
    {
        Assert.Equal(16, app.Documents.Count);
        var classifier = Get<IDocumentClassifier>();
        var (probe, _) = app.Documents[5];
        Assert.True((await classifier.ClassifyFileAsync(probe, Ct)).ZeroShot);

        // Only one class labelled: the new-labels check says a model needs two, without loading the documents or recording a job.
        var first = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(app.Documents[0].Path)));
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
        {
            await Dapper.SqlMapper.ExecuteAsync(conn, "CREATE TABLE one_class AS SELECT * FROM ingestion.labels WHERE document_id <> @first", new { first });
            await Dapper.SqlMapper.ExecuteAsync(conn, "DELETE FROM ingestion.labels WHERE document_id <> @first", new { first });
            var single = await Get<TrainingService>().TrainOnNewLabelsAsync(Ct);
            Assert.Empty(single.Runs);
            Assert.Equal(TrainingService.OneClassReason(1), single.Skipped);
            Assert.Equal(0L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(conn, "SELECT count(*) FROM training.jobs"));
            await Dapper.SqlMapper.ExecuteAsync(conn, "INSERT INTO ingestion.labels OVERRIDING SYSTEM VALUE SELECT * FROM one_class; DROP TABLE one_class");
        }

        // Only two classes labelled: the other documents' dataset labels are set aside.
        var keep = app.Documents.Take(2).Select(d => Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(d.Path)))).ToArray();
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
        {
            await Dapper.SqlMapper.ExecuteAsync(conn, "CREATE TABLE set_aside AS SELECT * FROM ingestion.labels WHERE NOT (document_id = ANY(@keep))", new { keep });
            await Dapper.SqlMapper.ExecuteAsync(conn, "DELETE FROM ingestion.labels WHERE NOT (document_id = ANY(@keep))", new { keep });
        }
        var two = await Get<TrainingService>().TrainAsync(null, null, "test", Ct);
        Assert.Null(two.Skipped);
        Assert.True(two.Promotion?.Promoted, two.Promotion?.Message);
        await classifier.ReloadAsync(Ct);
        var knownTwo = app.Documents.Take(2).Select(d => d.Label).Order().ToList();
        var result = await classifier.ClassifyFileAsync(probe, Ct);
        Assert.False(result.ZeroShot);
        Assert.Equal(knownTwo, result.KnownClasses);
        Assert.Contains(result.Label, knownTwo);
        Assert.All(Enumerable.Range(0, 16).Except(knownTwo), c => Assert.Equal(0f, result.Probabilities[c]));
        using (var client = app.CreateClient())
        {
            var status = await client.GetFromJsonAsync<JsonElement>("/api/v1/status", Ct);
            Assert.Equal("ready", status.GetProperty("status").GetString());
            Assert.Equal(2, status.GetProperty("knownClasses").GetArrayLength());
            Assert.Contains("knows 2 of 16 classes", status.GetProperty("message").GetString());
        }

        // Every class labelled once: the model knows them all, with an estimate and its uncertainty recorded.
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
            await Dapper.SqlMapper.ExecuteAsync(conn, "INSERT INTO ingestion.labels OVERRIDING SYSTEM VALUE SELECT * FROM set_aside; DROP TABLE set_aside");
        var all = await Get<TrainingService>().TrainAsync(null, null, "test", Ct);
        Assert.Equal("cross-validation", all.Evaluation);
        var best = all.Runs.Single(r => r.BestOfJob).Run;
        Assert.Equal("succeeded", best.Status);
        Assert.NotNull(best.AccuracySd);
        var estimate = await Get<TrainingStore>().EstimateAsync(best.Id, Ct);
        Assert.NotNull(estimate);
        Assert.Equal(16, estimate.Documents);
        Assert.Equal(1, estimate.SmallestClass);
        Assert.Contains("single labelled document", estimate.Uncertainty);
        Assert.NotEmpty(estimate.Coverage);
        await classifier.ReloadAsync(Ct);
        var sixteen = await classifier.ClassifyFileAsync(probe, Ct);
        Assert.Equal(Enumerable.Range(0, DocumentClasses.Count), sixteen.KnownClasses);
        Assert.False(sixteen.ZeroShot);
        Assert.NotNull(sixteen.ReviewThreshold);
        using (var client = app.CreateClient())
        {
            var status = await client.GetFromJsonAsync<JsonElement>("/api/v1/status", Ct);
            Assert.Contains("pessimistic", status.GetProperty("message").GetString());
            Assert.Equal(16, status.GetProperty("estimate").GetProperty("documents").GetInt32());
        }
    }
}

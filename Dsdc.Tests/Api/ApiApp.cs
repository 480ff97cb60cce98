using Dapper;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dsdc.Tests.Api;

/// <summary>
/// The app with a served model: five real pages per class (the fifth of a class is the first on the test side) go through the real pipeline, then one training run becomes
/// the champion. The OCR extractor counts its calls per document. The predict limiter is tight (one at a time, one waiting) so overload is easy to provoke.
/// </summary>
public sealed class ApiApp : DsdcAppFactory
{
    public const int PerClass = 5;
    public const long MaxUpload = 8 * 1024 * 1024;

    /// <summary>The pipeline's own limit on a document (Imaging:MaxFileBytes), set below the API's.</summary>
    public const long MaxDocument = 6 * 1024 * 1024;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Pipeline:Enabled"] = "false",
        ["Jobs:Server"] = "false",
        ["Training:Enabled"] = "false",
        ["Training:MinDocuments"] = "16",
        ["Training:CvRepeats"] = "1",
        ["Inference:ReloadIntervalSeconds"] = "0",
        ["Api:MaxConcurrentPredictions"] = "1",
        ["Api:QueueLimit"] = "1",
        ["Api:MaxUploadBytes"] = MaxUpload.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Imaging:MaxFileBytes"] = MaxDocument.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Auth:UserCacheSeconds"] = "0",
    };

    /// <summary>The documents the model was trained on (so they have embeddings and similar documents).</summary>
    public IReadOnlyList<(string Path, int Label)> Known { get; private set; } = [];

    public long ChampionRunId { get; private set; }

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Known = await CorpusSeeder.IngestLabelledAsync(Services, PerClass, ".tif", ".png");
        var report = await Services.GetRequiredService<TrainingService>().TrainAsync(1, 40, "api-tests", CancellationToken.None);
        ChampionRunId = report.Promotion?.ChampionRunId ?? throw new InvalidOperationException($"no champion: {report.Skipped}");
    }

    /// <summary>The app's OCR, counting its calls per document.</summary>
    public CountingTextExtractor Ocr => Get<CountingTextExtractor>();

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(CountingTextExtractor.Decorate);
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A file through the flow of <c>POST /api/v1/predict</c>: stored with its lineage and its prediction recorded.</summary>
    public async Task<Dsdc.Inference.Api.PredictionOutcome> PredictAsync(string path, string userName, CancellationToken ct)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Dsdc.Inference.Api.PredictionService>().ClassifyAsync(async (target, token) =>
        {
            await using var source = File.OpenRead(path);
            await source.CopyToAsync(target, token);
        }, Path.GetFileName(path), userName, ct);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = new NpgsqlConnection(Database.ConnectionString);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = new NpgsqlConnection(Database.ConnectionString);
        return (await conn.QueryAsync<T>(sql, args)).AsList();
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiApp>
{
    public const string Name = "api-with-model";
}

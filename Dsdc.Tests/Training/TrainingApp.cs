using Dapper;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dsdc.Tests.Training;

/// <summary>
/// The app on a database of its own with real embeddings of a subset of the shared datasets (up to
/// <see cref="PerClass"/> image pages per class, through the real pipeline: OCR, cleaning, preprocessing, encoder).
/// Built once for the Training and Inference test classes (about 90 documents, 1-2 minutes on 2 cores).
/// </summary>
public sealed class TrainingApp : DsdcAppFactory
{
    public const int PerClass = 6;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Pipeline:Enabled"] = "false",
        ["Jobs:Server"] = "false",
        ["Training:Enabled"] = "false",
        ["Training:MinDocuments"] = "16",
        ["Training:CvRepeats"] = "1",
        ["Inference:ReloadIntervalSeconds"] = "0",
        ["Embedding:UseCuda"] = "false",
        // The collection's tests name runs trained by earlier tests; removing old runs' files is tested on its own
        // (RunFileRetentionTests).
        ["Training:KeepRunFiles"] = "0",
    };

    public IReadOnlyList<(string Path, int Label)> Documents { get; private set; } = [];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Documents = await CorpusSeeder.IngestLabelledAsync(Services, PerClass, ".tif", ".tiff", ".png", ".jpg");
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var conn = await Get<NpgsqlDataSource>().OpenConnectionAsync();
        await conn.ExecuteAsync(sql, args);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Get<NpgsqlDataSource>().OpenConnectionAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = await Get<NpgsqlDataSource>().OpenConnectionAsync();
        return (await conn.QueryAsync<T>(sql, args)).AsList();
    }
}

[CollectionDefinition(Name)]
public sealed class TrainingCollection : ICollectionFixture<TrainingApp>
{
    public const string Name = "training-corpus";
}

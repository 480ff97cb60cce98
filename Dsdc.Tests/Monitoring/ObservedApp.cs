using System.Text.RegularExpressions;
using Dapper;
using Dsdc.Ingestion;
using Dsdc.Monitoring;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dsdc.Tests.Monitoring;

/// <summary>
/// The app after real work, scraped once: a dataset document and an empty file ingested, every stage run through its
/// job method, a job left waiting in a queue, a finished and a failed training run with the first promoted, and a
/// prediction recorded through the API the prediction endpoint calls.
/// </summary>
public sealed partial class ObservedApp : DsdcAppFactory
{
    public const string Collection = "observed app";

    public const double ChampionAccuracy = 0.8125, ChampionMacroF1 = 0.7734375;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Ingestion:SettleSeconds"] = "0",
        ["Pipeline:Enabled"] = "false",
        ["Jobs:Server"] = "false",
        ["Monitoring:JobsCacheSeconds"] = "0",
        ["Monitoring:ModelCacheSeconds"] = "0",
        ["Monitoring:LabelsCacheSeconds"] = "0",
    };

    public string Scrape { get; private set; } = "";

    public int UnauthorizedStatus { get; private set; }

    public int UnknownMethodStatus { get; private set; }

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var ct = TestContext.Current.CancellationToken;
        var paths = Services.GetRequiredService<DsdcPaths>();
        var png = Fixtures.First(".png");
        Drop(paths, "one", png.Path, png.Label);
        Directory.CreateDirectory(Path.Combine(paths.Inbox, "empty"));
        await File.WriteAllBytesAsync(Path.Combine(paths.Inbox, "empty", "zero.png"), [], ct);
        File.WriteAllText(Path.Combine(paths.Inbox, "empty", "label.txt"), "1");

        await Services.GetRequiredService<InboxIngestor>().IngestAsync(10, null, ct);
        var jobs = Services.GetRequiredService<PipelineJobs>();
        await jobs.ImagesAsync(ct);
        await jobs.OcrAsync(ct);
        await jobs.CleanTextAsync(ct);
        await jobs.EmbeddingsAsync(ct);
        // Waits in its queue: no job server runs in this app.
        Services.GetRequiredService<IBackgroundJobClient>().Enqueue<PipelineJobs>(j => j.OcrAsync(CancellationToken.None));
        await AddTrainingRunsAsync(ct);
        DsdcMetrics.RecordPrediction(11, 0.93, TimeSpan.FromMilliseconds(420), needsReview: true);

        using var client = CreateClient();
        await client.GetAsync("/openapi/v1.json", ct);
        await client.GetAsync("/health/live", ct);
        // Answers the authentication gives (401), and a method outside HTTP's own (501, never a series of its own).
        UnauthorizedStatus = (int)(await client.GetAsync("/api/v1/me", ct)).StatusCode;
        UnknownMethodStatus = (int)(await client.SendAsync(new HttpRequestMessage(new HttpMethod("FOO1"), "/health/live"), ct)).StatusCode;
        Scrape = await client.GetStringAsync("/metrics", ct);
        // The .NET meters (Npgsql's) reach prometheus-net's adapter a few seconds after their first measurements: a
        // scrape right after start can lack them, as a process's first scrape does (the test classes run first then).
        for (var wait = 0; wait < 60 && !Scrape.Contains("npgsql_db_client_operation_duration_bucket{", StringComparison.Ordinal); wait++)
        {
            await Task.Delay(500, ct);
            await client.GetAsync("/health/ready", ct); // a database query to measure
            Scrape = await client.GetStringAsync("/metrics", ct);
        }
    }

    private static void Drop(DsdcPaths paths, string folder, string file, int label)
    {
        var dir = Path.Combine(paths.Inbox, folder);
        Directory.CreateDirectory(dir);
        File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(dir, "label.txt"), label.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Rows as the training job leaves them (sql/0006_training.sql): one run promoted, one failed.</summary>
    private async Task AddTrainingRunsAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(Database.ConnectionString);
        const string run = """
            INSERT INTO training.runs (name, parameters, encoder, encoder_version, dimensions, seed, device, train_size,
                validation_size, test_size, status, test_accuracy, test_macro_f1, triggered_by, finished_at)
            VALUES (@name, '{}'::jsonb, 'default', '1', 896, 42, 'cpu', 10, 2, 2, @status, @accuracy, @f1, 'test', now() - interval '2 hours')
            RETURNING id
            """;
        var champion = await conn.ExecuteScalarAsync<long>(new CommandDefinition(run,
            new { name = "mlp12", status = "succeeded", accuracy = ChampionAccuracy, f1 = ChampionMacroF1 }, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(run, new { name = "random-1", status = "failed", accuracy = (double?)null, f1 = (double?)null }, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition("""
            INSERT INTO training.promotions (run_id, kind, reason, promoted_by) VALUES (@champion, 'automatic', 'first model', 'test')
            """, new { champion }, cancellationToken: ct));
    }

    /// <summary>The metric families of a scrape (from its <c># TYPE</c> lines) that have at least one sample.</summary>
    public static HashSet<string> FamiliesWithSamples(string scrape)
    {
        var families = TypeLine().Matches(scrape).Select(m => m.Groups[1].Value).ToHashSet();
        var samples = SampleLine().Matches(scrape).Select(m => m.Groups[1].Value).ToHashSet();
        return families.Where(f => samples.Contains(f) || samples.Any(s => s == f + "_bucket" || s == f + "_count")).ToHashSet();
    }

    [GeneratedRegex(@"(?m)^# TYPE (\S+) \S+$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? \S+")]
    private static partial Regex SampleLine();
}

/// <summary>One observed app for the metric and dashboard tests: the real work is done once.</summary>
[CollectionDefinition(ObservedApp.Collection)]
public sealed class ObservedAppCollection : ICollectionFixture<ObservedApp>;

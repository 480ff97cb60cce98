using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dapper;
using Dsdc.Auth;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dsdc.Tests.Reliability;

/// <summary>
/// Faults: PostgreSQL stopped in the middle of a pipeline run and of predictions (on a cluster of the test's own), and
/// a full disk under data/ (a real tmpfs, mounted by the test as root).
/// </summary>
public sealed class FaultTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>How long PostgreSQL stays down in CI (scripts/load-test.sh holds it down for 30 s).</summary>
    public static readonly TimeSpan Outage = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("DSDC_OUTAGE_SECONDS"), out var s) ? s : 10);

    private sealed class OutageApp(OwnPostgres pg) : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["ConnectionStrings:Dsdc"] = pg.ConnectionString(),
            ["Ingestion:SettleSeconds"] = "0",
            ["Pipeline:Enabled"] = "true",
            ["Pipeline:Cron"] = "* * * * *",
            ["Pipeline:BatchSize"] = "4",
            ["Jobs:Server"] = "true",
            ["Training:Enabled"] = "false",
        };
    }

    [Fact]
    public async Task PostgresStoppedMidRunAndMidPredictionsFailsFastThenLosesAndDuplicatesNothing()
    {
        await using var pg = await OwnPostgres.StartAsync();
        await using var app = new OutageApp(pg);
        await app.InitializeAsync();
        var paths = app.Services.GetRequiredService<DsdcPaths>();
        var docs = Fixtures.Labelled().Where(d => !d.Path.EndsWith(".jpg")).Take(12).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i)))
        {
            var dir = Path.Combine(paths.Inbox, $"doc{i:00}");
            Directory.CreateDirectory(dir);
            File.Copy(d.Path, Path.Combine(dir, Path.GetFileName(d.Path)));
            await File.WriteAllTextAsync(Path.Combine(dir, "label.txt"), d.Label.ToString(System.Globalization.CultureInfo.InvariantCulture), Ct);
        }
        var ids = docs.Select(d => Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(d.Path)))).Distinct().ToList();
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        (await client.GetAsync("/api/v1/status", Ct)).Dispose();

        app.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<PipelineJobs>(j => j.RunAsync(CancellationToken.None));
        // Generous limits: the whole suite starts beside this test on two cores. The waits end as soon as their condition
        // holds. (A run that once stored nothing for minutes had gone to another test host's database: see JobsModule.)
        await WaitAsync(async () => await CountAsync(pg, "SELECT count(*) FROM ingestion.original_documents") >= 2, TimeSpan.FromMinutes(6));

        await pg.StopServerAsync();
        var down = Stopwatch.StartNew();
        var answers = new List<(HttpStatusCode Status, string? RetryAfter, TimeSpan Took, string Body)>();
        while (down.Elapsed < Outage)
        {
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(File.ReadAllBytes(docs[0].Path));
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", "page.tif");
            var watch = Stopwatch.StartNew();
            using var response = await client.PostAsync("/api/v1/predict", form, Ct);
            answers.Add((response.StatusCode, response.Headers.RetryAfter?.ToString(), watch.Elapsed, await response.Content.ReadAsStringAsync(Ct)));
            await Task.Delay(500, Ct);
        }
        await pg.StartServerAsync();

        // Predictions failed fast with 503 and Retry-After while the database was away.
        Assert.NotEmpty(answers);
        foreach (var a in answers)
        {
            Assert.True(a.Status == HttpStatusCode.ServiceUnavailable && a.RetryAfter is not null, $"{(int)a.Status} {a.RetryAfter}: {a.Body}");
            Assert.True(a.Took < TimeSpan.FromSeconds(5), $"a prediction took {a.Took} with the database down");
        }

        // Hangfire retries the failed jobs (and the recurring run comes back): everything lands exactly once.
        await WaitAsync(async () => await CountAsync(pg, "SELECT count(*) FROM pipeline.processed_texts") >= ids.Count
                                    && await CountAsync(pg, "SELECT count(*) FROM pipeline.processed_images") >= ids.Count, TimeSpan.FromMinutes(8));
        Assert.Equal(ids.Count, await CountAsync(pg, "SELECT count(*) FROM ingestion.original_documents WHERE ingest_state = 'stored'"));
        Assert.Equal(ids.Count, await CountAsync(pg, "SELECT count(*) FROM ingestion.original_documents"));
        Assert.Equal(ids.Count, await CountAsync(pg, "SELECT count(*) FROM pipeline.processed_texts"));
        Assert.Equal(ids.Count, await CountAsync(pg, "SELECT count(*) FROM pipeline.processed_images"));
        Assert.Equal(ids.Count, await CountAsync(pg, "SELECT count(*) FROM ingestion.labels"));
        Assert.Equal(docs.Count - ids.Count, await CountAsync(pg, "SELECT count(*) FROM ingestion.rejected_documents"));
        Assert.Equal(ids.Count, Directory.EnumerateFiles(Path.Combine(app.DataDir, "raw"), "*", SearchOption.AllDirectories).Count());
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(paths.Inbox), e => Path.GetFileName(e) != ".gitkeep");
        Assert.Equal(0, await CountAsync(pg, "SELECT count(*) FROM pipeline.stage_failures"));
        // The database went away under running jobs: Hangfire recorded their failure and retried them.
        Assert.True(await CountAsync(pg, "SELECT count(*) FROM hangfire.state WHERE reason LIKE 'Retry attempt%'") >= 1, "no job was retried");
    }

    private sealed class DiskApp(string dataDir) : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Dsdc:DataDir"] = dataDir,
            ["Ingestion:SettleSeconds"] = "0",
            ["Pipeline:Enabled"] = "false",
            ["Jobs:Server"] = "false",
        };
    }

    /// <summary>A real full disk: data/ on a 24 MiB tmpfs (mounted by the test; needs root), filled up before the run.</summary>
    [Fact]
    public async Task AFullDiskUnderDataGivesAClearErrorLeavesNoPartialFilesAndResumesWhenSpaceReturns()
    {
        var mount = Directory.CreateTempSubdirectory("dsdc-full-disk-").FullName;
        if (!await Commands.RunAsync("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount))
            Assert.Skip("mounting a tmpfs needs root (CAP_SYS_ADMIN); this run cannot simulate a full disk");
        try
        {
            await using var app = new DiskApp(mount);
            await app.InitializeAsync();
            var paths = app.Services.GetRequiredService<DsdcPaths>();
            var docs = Fixtures.Labelled().Where(d => d.Path.EndsWith(".png") || d.Path.EndsWith(".tif"))
                .Where(d => new FileInfo(d.Path).Length < 400_000).Take(4).ToList();
            foreach (var (d, i) in docs.Select((d, i) => (d, i)))
            {
                var dir = Path.Combine(paths.Inbox, $"doc{i}");
                Directory.CreateDirectory(dir);
                File.Copy(d.Path, Path.Combine(dir, Path.GetFileName(d.Path)));
                await File.WriteAllTextAsync(Path.Combine(dir, "label.txt"), d.Label.ToString(System.Globalization.CultureInfo.InvariantCulture), Ct);
            }
            var filler = Path.Combine(mount, "filler.bin");
            await using (var f = new FileStream(filler, FileMode.CreateNew))
            {
                var block = new byte[64 * 1024];
                try { while (true) f.Write(block); }
                catch (IOException) { }
                try { f.Flush(); } catch (IOException) { }
            }

            Exception? error = null;
            try
            {
                await app.Services.GetRequiredService<PipelineRunner>().RunUntilEmptyAsync(null, Ct);
            }
            catch (Exception ex)
            {
                error = ex;
            }

            // A clear error (the job fails and is retried: a full volume is not the document's fault).
            Assert.NotNull(error);
            Assert.Contains("No space left on device", error.ToString());
            AssertNoPartialFiles(mount);
            await using (var conn = new NpgsqlConnection(app.Database.ConnectionString))
                Assert.Equal(0L, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM pipeline.stage_failures"));

            File.Delete(filler);
            await app.Services.GetRequiredService<PipelineRunner>().RunUntilEmptyAsync(null, Ct);

            AssertNoPartialFiles(mount);
            await using var db = new NpgsqlConnection(app.Database.ConnectionString);
            var ids = docs.Select(d => Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(d.Path)))).Distinct().Count();
            Assert.Equal(ids, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE ingest_state = 'stored'"));
            Assert.Equal(ids, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM pipeline.processed_images"));
            Assert.Equal(ids, Directory.EnumerateFiles(paths.Processed, "*", SearchOption.AllDirectories).Count(f => !f.EndsWith(".gitkeep")));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await Commands.RunAsync("umount", "-l", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    /// <summary>No temporary file, and every file in raw/ holds exactly the bytes its name (the SHA-1) says.</summary>
    private static void AssertNoPartialFiles(string dataDir)
    {
        Assert.Empty(Directory.EnumerateFiles(dataDir, "*.tmp", SearchOption.AllDirectories));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(dataDir, "raw"), "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".gitkeep")))
            Assert.Equal(Path.GetFileNameWithoutExtension(file), Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(file))));
        var processed = Path.Combine(dataDir, "processed");
        if (Directory.Exists(processed))
            foreach (var png in Directory.EnumerateFiles(processed, "*.png", SearchOption.AllDirectories))
                Assert.True(new FileInfo(png).Length > 0 && File.ReadAllBytes(png)[^8..].AsSpan().SequenceEqual(new byte[] { 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82 }),
                    $"{png} is incomplete");
    }

    private static async Task<long> CountAsync(OwnPostgres pg, string sql)
    {
        try
        {
            await using var conn = new NpgsqlConnection(pg.ConnectionString() + ";Pooling=false");
            return await conn.ExecuteScalarAsync<long>(sql);
        }
        catch (NpgsqlException)
        {
            return -1;
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> done, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (!await done())
        {
            if (watch.Elapsed > limit) throw new TimeoutException($"not done within {limit}");
            await Task.Delay(250, Ct);
        }
    }
}

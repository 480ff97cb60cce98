using System.Diagnostics;
using System.Security.Cryptography;
using Dsdc.Pipeline;
using Dsdc.Tests.Infrastructure;
using Dsdc.Tests.Ingestion;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Pipeline;

public sealed class PipelineRunTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Environment(IngestionApp app) => new()
    {
        ["ConnectionStrings__Dsdc"] = app.Database.ConnectionString,
        ["Dsdc__DataDir"] = app.DataDir,
        ["Dsdc__ModelsDir"] = app.ModelsDir,
        ["Ingestion__SettleSeconds"] = "0",
        ["Auth__SigningKey"] = DsdcAppFactory.NewSigningKey(),
    };

    [Fact]
    public async Task TheIngestCommandRunsThePipelineUntilTheInboxIsEmpty()
    {
        await using var app = await IngestionApp.StartAsync();
        var docs = Fixtures.Labelled().Where(d => !d.Path.EndsWith(".jpg")).Take(5).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i))) app.Drop($"doc{i}", d.Path, d.Label.ToString());
        app.DropBytes("broken", "zero.tif", [], "1");

        var result = await AppProcess.RunAsync(["ingest"], Environment(app), timeout: TimeSpan.FromMinutes(5));

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains($"{docs.Count} accepted, 1 rejected (empty-file: 1)", result.StdOut);
        Assert.Contains("documents/s", result.StdOut);
        Assert.Equal(docs.Count, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts"));
        Assert.Equal(docs.Count, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_images"));
        Assert.Empty(app.InboxEntries());
    }

    /// <summary>
    /// A file that looks incomplete (half a PNG, as a paused copy leaves it) waits until nothing has written it for
    /// <c>Ingestion:IncompleteSeconds</c> before it is rejected; the command waits for that verdict and ends with the
    /// inbox empty (it gave up after 20 s of nothing else to do, and left the file behind, deferred).
    /// </summary>
    [Fact]
    public async Task TheIngestCommandWaitsForTheVerdictOnAFileThatLooksIncomplete()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, label) = Fixtures.First(".png");
        var bytes = await File.ReadAllBytesAsync(path, Ct);
        app.DropBytes("paused", "scan.png", bytes[..(bytes.Length / 2)], label.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var environment = Environment(app);
        environment["Ingestion__SettleSeconds"] = "1";
        environment["Ingestion__IncompleteSeconds"] = "35";

        var result = await AppProcess.RunAsync(["ingest"], environment, timeout: TimeSpan.FromMinutes(3));

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("Ingestion: 0 accepted, 1 rejected (corrupt: 1).", result.StdOut);
        Assert.Empty(app.InboxEntries());
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.rejected_documents"));
    }

    [Fact]
    public void TheCommandWaitsForDeferredEntriesAsLongAsTheInboxWaitsToJudgeThem()
    {
        Assert.Equal(TimeSpan.FromSeconds(67), PipelineRunner.DeferredPatience(new Dsdc.Ingestion.IngestionOptions { SettleSeconds = 2, IncompleteSeconds = 60 }));
        Assert.Equal(TimeSpan.FromSeconds(20), PipelineRunner.DeferredPatience(new Dsdc.Ingestion.IngestionOptions { SettleSeconds = 0, IncompleteSeconds = 60 }));
        Assert.Equal(TimeSpan.FromSeconds(20), PipelineRunner.DeferredPatience(new Dsdc.Ingestion.IngestionOptions { SettleSeconds = 2, IncompleteSeconds = 5 }));
    }

    [Fact]
    public async Task ImportCopiesASortedArchiveIntoTheInboxLabelledByItsClassFoldersAndAddsNothingTheSecondTime()
    {
        await using var app = await IngestionApp.StartAsync();
        var docs = Fixtures.Labelled().Where(d => !d.Path.EndsWith(".jpg")).DistinctBy(d => Sha1(d.Path)).Take(4).ToList();
        var archive = Directory.CreateTempSubdirectory("dsdc-archive-").FullName;
        try
        {
            void Put(string folder, string file)
            {
                Directory.CreateDirectory(Path.Combine(archive, folder));
                File.Copy(file, Path.Combine(archive, folder, Path.GetFileName(file)));
            }
            // The datasets' layout, a class's name in the plural and another case, a class folder above dated folders, no
            // class folder at all; the first file again under another class; a file that is not a document.
            Put("11_invoice", docs[0].Path);
            Put("Scientific_Reports", docs[1].Path);
            Put(Path.Combine("memos", "2024", "march"), docs[2].Path);
            Put("unsorted", docs[3].Path);
            Put("letter", docs[0].Path);
            File.WriteAllText(Path.Combine(archive, "README.md"), "notes");
            var archiveBefore = Snapshot(archive);

            var dryRun = await AppProcess.RunAsync(["import", archive, "--dry-run"], Environment(app), timeout: TimeSpan.FromMinutes(2));
            Assert.True(dryRun.ExitCode == 0, dryRun.StdErr);
            Assert.Contains("Would import 4 document(s)", dryRun.StdOut);
            Assert.Empty(app.InboxEntries());

            var result = await AppProcess.RunAsync(["import", archive], Environment(app), timeout: TimeSpan.FromMinutes(2));

            Assert.True(result.ExitCode == 0, result.StdErr);
            Assert.Contains("Imported 4 document(s)", result.StdOut);
            Assert.Contains("3 labelled, 1 unlabelled", result.StdOut);
            Assert.Contains("scientific report 1, invoice 1, memo 1", result.StdOut);
            Assert.Contains("1 met again in the folder (1 under another class: the first one's was kept)", result.StdOut);
            Assert.Contains("1 file(s) that are not documents (.md 1)", result.StdOut);
            // One inbox folder per document: its file, and a label.txt where a folder named its class.
            var expected = new Dictionary<string, string?>
            {
                [Sha1(docs[0].Path)] = "11", [Sha1(docs[1].Path)] = "5", [Sha1(docs[2].Path)] = "15", [Sha1(docs[3].Path)] = null,
            };
            var entries = app.InboxEntries();
            Assert.Equal(4, entries.Count);
            foreach (var entry in entries)
            {
                Assert.StartsWith("import-", Path.GetFileName(entry));
                var files = Directory.GetFiles(entry);
                var document = Assert.Single(files, f => Path.GetFileName(f) != "label.txt");
                var label = files.FirstOrDefault(f => Path.GetFileName(f) == "label.txt") is { } l ? File.ReadAllText(l).Trim() : null;
                Assert.Equal(expected[Sha1(document)], label);
            }
            Assert.Equal(archiveBefore, Snapshot(archive)); // the archive is only read

            // Again before ingestion: what waits in the inbox is not queued twice.
            var beforeIngest = await AppProcess.RunAsync(["import", archive + "/"], Environment(app), timeout: TimeSpan.FromMinutes(2));
            Assert.True(beforeIngest.ExitCode == 0, beforeIngest.StdErr);
            Assert.Contains("Imported 0 document(s)", beforeIngest.StdOut);
            Assert.Contains("4 already waiting in the inbox", beforeIngest.StdOut);
            Assert.Equal(4, app.InboxEntries().Count);

            var ingest = await AppProcess.RunAsync(["ingest"], Environment(app), timeout: TimeSpan.FromMinutes(5));
            Assert.True(ingest.ExitCode == 0, ingest.StdErr);
            Assert.Contains("4 accepted", ingest.StdOut);
            var stored = (await app.QueryAsync<(string DocumentId, short Label)>("SELECT document_id, label FROM ingestion.current_labels"))
                .ToDictionary(x => x.DocumentId, x => x.Label.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(expected.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!), stored);

            // Again after ingestion, the unlabelled document now also filed under a class: nothing is queued, and the
            // stored document without a class takes the archive's.
            Put("budgets", docs[3].Path);
            var again = await AppProcess.RunAsync(["import", archive], Environment(app), timeout: TimeSpan.FromMinutes(2));
            Assert.True(again.ExitCode == 0, again.StdErr);
            Assert.Contains("Imported 0 document(s)", again.StdOut);
            Assert.Contains("Labelled 1 stored document(s) that had no class: budget 1.", again.StdOut);
            Assert.Contains("Left out: 4 already stored; 2 met again in the folder (1 under another class: the first one's was kept)", again.StdOut);
            Assert.Empty(app.InboxEntries());
            Assert.Equal(10, await app.ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id = Sha1(docs[3].Path) }));
        }
        finally
        {
            Directory.Delete(archive, recursive: true);
        }
    }

    [Fact]
    public async Task ImportRefusesAFolderThatOverlapsTheDataFolderAndAnOptionItDoesNotKnow()
    {
        await using var app = await IngestionApp.StartAsync();
        var result = await AppProcess.RunAsync(["import", app.Paths.Inbox], Environment(app), timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("overlap", result.StdErr);
        // A mistyped option is an error, never an import that was meant to be a dry run.
        var archive = Directory.CreateTempSubdirectory("dsdc-archive-").FullName;
        try
        {
            // A symbolic link to the inbox is the inbox: refused, and nothing in the inbox is copied onto itself.
            var link = Path.Combine(archive, "inbox-link");
            Directory.CreateSymbolicLink(link, app.Paths.Inbox);
            var linked = await AppProcess.RunAsync(["import", link], Environment(app), timeout: TimeSpan.FromMinutes(2));
            Assert.Equal(1, linked.ExitCode);
            Assert.Contains("overlap", linked.StdErr);
            File.Delete(link);

            var mistyped = await AppProcess.RunAsync(["import", archive, "--dryrun"], Environment(app), timeout: TimeSpan.FromMinutes(2));
            Assert.Equal(2, mistyped.ExitCode);
            Assert.Contains("import has no option --dryrun", mistyped.StdErr);
        }
        finally
        {
            Directory.Delete(archive, recursive: true); // removes a link left by a failed assertion, never its target
        }
    }

    private static string Sha1(string path) => Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(path)));

    private static List<string> Snapshot(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(root, f)} {Sha1(f)}").ToList();

    [Fact]
    public async Task KillingIngestMidBatchThenRestartingAccountsForEveryFileOnce()
    {
        await using var app = await IngestionApp.StartAsync();
        var docs = Fixtures.Labelled().Where(d => !d.Path.EndsWith(".jpg")).Take(40).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i))) app.Drop($"doc{i:00}", d.Path, d.Label.ToString());
        var ids = docs.Select(d => Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(d.Path)))).ToList();

        // Kill the process at three different moments, the way a power cut would.
        foreach (var delay in new[] { 700, 1500, 2500 })
        {
            using var killed = StartIngest(Environment(app));
            await Task.Delay(delay, Ct);
            killed.Kill(entireProcessTree: true);
            await killed.WaitForExitAsync(Ct);
        }
        var final = await AppProcess.RunAsync(["ingest"], Environment(app), timeout: TimeSpan.FromMinutes(5));

        Assert.True(final.ExitCode == 0, final.StdErr);
        Assert.Empty(app.InboxEntries());
        var stored = await app.QueryAsync<string>("SELECT id FROM ingestion.original_documents WHERE ingest_state = 'stored'");
        Assert.Equal(ids.Distinct().Order(), stored.Order());
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE ingest_state <> 'stored'"));
        Assert.Equal(stored.Count, app.FilesUnder("raw").Count);
        // Identical files among the inputs are the only rejections, each once.
        Assert.Equal(ids.Count - ids.Distinct().Count(), await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.rejected_documents WHERE reason_code = 'duplicate'"));
        Assert.Equal(stored.Count, await app.ScalarAsync<long>("SELECT count(DISTINCT document_id) FROM ingestion.labels"));
        Assert.Equal(stored.Count, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels"));
        Assert.Equal(stored.Count, await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts"));
    }

    [Fact]
    public async Task TheRecurringRunChainsTheStagesThroughHangfire()
    {
        await using var app = await IngestionApp.StartAsync(jobServer: true);
        var docs = Fixtures.Labelled().Where(d => d.Path.EndsWith(".png")).Take(3).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i))) app.Drop($"doc{i}", d.Path, d.Label.ToString());

        app.Services.GetRequiredService<IBackgroundJobClient>().Enqueue<PipelineJobs>(j => j.RunAsync(CancellationToken.None));

        // Ends as soon as the stages are done; generous because the whole suite starts beside it on two cores.
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromMinutes(6)
               && (await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts") < docs.Count
                   || await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_images") < docs.Count))
            await Task.Delay(250, Ct);
        var states = await app.QueryAsync<string>("SELECT invocationdata::json->>'Method' || ':' || statename FROM hangfire.job");
        var texts = await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_texts");
        var images = await app.ScalarAsync<long>("SELECT count(*) FROM pipeline.processed_images");
        Assert.True(texts == docs.Count && images == docs.Count,
            $"after {watch.Elapsed}: {texts} texts and {images} images of {docs.Count}; this app's jobs: {string.Join(", ", states)}");
        Assert.Contains("RunAsync:Succeeded", states);
        Assert.Contains(states, s => s.StartsWith("OcrAsync:"));
        Assert.Contains(states, s => s.StartsWith("CleanTextAsync:"));
    }

    private static Process StartIngest(IDictionary<string, string?> env)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        info.ArgumentList.Add(AppProcess.WebAssembly);
        info.ArgumentList.Add("ingest");
        foreach (var (k, v) in env) info.Environment[k] = v;
        var p = Process.Start(info)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}

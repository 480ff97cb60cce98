using System.Security.Cryptography;
using Dsdc.Ingestion;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Ingestion;

public sealed class IngestionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Sha1(string path) => Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(path)));

    [Fact]
    public async Task RealDocumentsMoveToRawWithTheirDatasetLabels()
    {
        await using var app = await IngestionApp.StartAsync();
        var picks = new[] { Fixtures.First(".tif"), Fixtures.First(".png"), Fixtures.First(".jpg"), Fixtures.First(".pdf") };
        foreach (var (file, i) in picks.Select((p, i) => (p, i)))
            app.Drop($"doc{i}", file.Path, file.Label.ToString());

        var summary = await app.Ingestor.IngestAsync(100, null, Ct);

        Assert.Equal(4, summary.Accepted);
        Assert.Equal(0, summary.Rejected);
        Assert.Empty(app.InboxEntries());
        foreach (var (path, label) in picks)
        {
            var id = Sha1(path);
            var ext = Path.GetExtension(path).ToLowerInvariant() is ".tiff" ? ".tif" : Path.GetExtension(path).ToLowerInvariant();
            var stored = Path.Combine(app.Paths.Raw, id[..1], id[1..2], id + (ext == ".jpeg" ? ".jpg" : ext));
            Assert.True(File.Exists(stored), $"{stored} missing");
            Assert.Equal(id, Sha1(stored));
            Assert.Equal("stored", await app.ScalarAsync<string>("SELECT ingest_state FROM ingestion.original_documents WHERE id = @id", new { id }));
            Assert.Equal(label, await app.ScalarAsync<int>("SELECT label FROM ingestion.labels WHERE document_id = @id AND source = 'dataset'", new { id }));
        }
    }

    /// <summary>Deleting a document removes every copy of its bytes the system keeps: its original, and the inbox entries
    /// refused as its duplicates (their folders under rejected/, and their records); another document's rejection stays.</summary>
    [Fact]
    public async Task DeletingADocumentRemovesTheCopiesRefusedAsItsDuplicates()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, label) = Fixtures.First(".png");
        var (other, _) = Fixtures.First(".jpg");
        var id = Sha1(path);
        app.Drop("original", path, label.ToString(System.Globalization.CultureInfo.InvariantCulture));
        app.Drop("unrelated", other);
        Assert.Equal(2, (await app.Ingestor.IngestAsync(10, null, Ct)).Accepted);
        app.Drop("copy-1", path, name: "copy.png");
        app.Drop("copy-2", path, label.ToString(System.Globalization.CultureInfo.InvariantCulture), name: "again.png");
        app.Drop("unrelated-copy", other, name: "other.jpg");
        Assert.Equal(3, (await app.Ingestor.IngestAsync(10, null, Ct)).Rejected);
        Assert.Equal(3, Directory.GetDirectories(app.Paths.Rejected).Length);

        var deletion = app.Services.GetRequiredService<DocumentDeletion>();
        Assert.Equal(DeletionOutcome.Deleted, await deletion.DeleteAsync(id, "admin", Ct));

        Assert.Equal(["unrelated-copy"], Directory.GetDirectories(app.Paths.Rejected).Select(Path.GetFileName).ToArray());
        Assert.Equal(["unrelated-copy"], (await app.QueryAsync<string>("SELECT source_folder FROM ingestion.rejected_documents")).ToArray());
        Assert.DoesNotContain(app.FilesUnder("raw"), f => f.Contains(id, StringComparison.Ordinal));
        Assert.Single(app.FilesUnder("raw"));
    }

    [Fact]
    public async Task ADocumentWithoutLabelIsIngestedWithoutOne()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, _) = Fixtures.First(".png");
        app.Drop("unlabelled", path);

        var summary = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(1, summary.Accepted);
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels"));
    }

    [Fact]
    public async Task ADuplicateWithALabelGivesItToAKnownDocumentWithoutOneAndNeverReplacesOne()
    {
        await using var app = await IngestionApp.StartAsync();
        var (unlabelled, label) = Fixtures.First(".png");
        var (labelled, tifLabel) = Fixtures.First(".tif");
        app.Drop("a-unlabelled", unlabelled);
        app.Drop("b-labelled", labelled, tifLabel.ToString());
        Assert.Equal(2, (await app.Ingestor.IngestAsync(10, null, Ct)).Accepted);
        var other = (tifLabel + 1) % 16;
        app.Drop("c-copy-with-label", unlabelled, label.ToString(), name: "copy.png");
        app.Drop("d-copy-with-other-label", labelled, other.ToString(), name: "copy.tif");
        app.Drop("e-copy-with-same-label", labelled, tifLabel.ToString(), name: "again.tif");
        app.Drop("f-copy-without-label", labelled, name: "plain.tif");

        var summary = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(4, summary.RejectedByReason.GetValueOrDefault(InboxIngestor.DuplicateReason));
        var labels = await app.QueryAsync<(string DocumentId, short Label, string Source)>("SELECT document_id, label, source FROM ingestion.labels");
        Assert.Equal([(Sha1(labelled), (short)tifLabel, "dataset"), (Sha1(unlabelled), (short)label, "dataset")],
            labels.OrderBy(l => l.DocumentId == Sha1(unlabelled)).ToList());
        var reasons = (await app.QueryAsync<(string SourceFolder, string Reason)>("SELECT source_folder, reason FROM ingestion.rejected_documents"))
            .ToDictionary(r => r.SourceFolder, r => r.Reason);
        Assert.Contains($"it had no class and now has this file's, '{DocumentClasses.NameOf(label)}'", reasons["c-copy-with-label"]);
        Assert.Contains($"it keeps its class '{DocumentClasses.NameOf(tifLabel)}' (this file's '{DocumentClasses.NameOf(other)}' was not applied",
            reasons["d-copy-with-other-label"]);
        Assert.Contains($"it already has the class '{DocumentClasses.NameOf(tifLabel)}'", reasons["e-copy-with-same-label"]);
        // The batch page shows what became of the class after the known document's link.
        Assert.Equal($"it had no class and now has this file's, '{DocumentClasses.NameOf(label)}'", InboxIngestor.DuplicateLabelNote(reasons["c-copy-with-label"]));
        Assert.Null(InboxIngestor.DuplicateLabelNote(reasons["f-copy-without-label"]));
        // A name that holds the same characters is not read as a note.
        Assert.Null(InboxIngestor.DuplicateLabelNote("duplicate of known document x (ingested from 'a UTC); b/c.tif' on 2026-12-02 10:00 UTC)"));
        Assert.Equal("it already has the class 'memo'", InboxIngestor.DuplicateLabelNote(
            "duplicate of known document x (ingested from 'a UTC); it keeps its class/c.tif' on 2026-12-02 10:00 UTC); it already has the class 'memo'"));
    }

    [Fact]
    public async Task ALooseFileAtTheInboxRootIsIngestedToo()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, _) = Fixtures.First(".tif");
        File.Copy(path, Path.Combine(app.Paths.Inbox, "scan 001.tif"));

        var summary = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(1, summary.Accepted);
        Assert.Equal("scan 001", await app.ScalarAsync<string>("SELECT source_folder FROM ingestion.original_documents"));
    }

    [Fact]
    public async Task PageCountsCoverMultiPageTiffAndPdfWithAndWithoutTextLayer()
    {
        await using var app = await IngestionApp.StartAsync();
        var tiff = app.DropBytes("multipage", "pages.tif", Fixtures.MultiPageTiff(3), "1");
        var scan = Fixtures.First(".png");
        using var scratch = new ScratchFolder("dsdc-scan-pdf-");
        var scanPdf = Fixtures.ImageToPdf(scan.Path, scratch.File("scan.pdf"));
        app.Drop("scanned-pdf", scanPdf, scan.Label.ToString());
        var bornDigital = Fixtures.Labelled().Where(d => d.Path.EndsWith(".pdf")).ToList();
        foreach (var (pdf, i) in bornDigital.Select((d, i) => (d, i)))
            app.Drop($"invoice{i}", pdf.Path, pdf.Label.ToString());

        var summary = await app.Ingestor.IngestAsync(100, null, Ct);

        Assert.Equal(2 + bornDigital.Count, summary.Accepted);
        Assert.Equal(3, await app.ScalarAsync<int>("SELECT page_count FROM ingestion.original_documents WHERE source_folder = 'multipage'"));
        Assert.Equal("image/tiff", await app.ScalarAsync<string>("SELECT media_type FROM ingestion.original_documents WHERE source_folder = 'multipage'"));
        Assert.Equal(1, await app.ScalarAsync<int>("SELECT page_count FROM ingestion.original_documents WHERE source_folder = 'scanned-pdf'"));
        Assert.Contains(2, await app.QueryAsync<int>("SELECT page_count FROM ingestion.original_documents WHERE source_folder LIKE 'invoice%'"));
        Assert.True(File.Exists(tiff) is false);
    }

    [Fact]
    public async Task AFolderStillBeingWrittenWaitsForTheNextRun()
    {
        await using var app = await IngestionApp.StartAsync(settleSeconds: 60);
        var (path, label) = Fixtures.First(".tif");
        var copy = app.Drop("arriving", path, label.ToString());

        var first = await app.Ingestor.IngestAsync(10, null, Ct);
        Assert.Equal(0, first.Accepted);
        Assert.Equal(1, first.Deferred);
        Assert.True(File.Exists(copy));

        var past = DateTime.UtcNow.AddMinutes(-5);
        foreach (var f in Directory.EnumerateFiles(Path.GetDirectoryName(copy)!)) File.SetLastWriteTimeUtc(f, past);
        Directory.SetLastWriteTimeUtc(Path.GetDirectoryName(copy)!, past);
        var second = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal(1, second.Accepted);
    }

    /// <summary>A folder dated in the future (copied keeping the time of a machine whose clock runs ahead) is not deferred
    /// until that time comes: it is ingested once seen unchanged for the settle window.</summary>
    [Fact]
    public async Task AFolderDatedInTheFutureIsIngestedOnceSeenUnchangedForTheSettleWindow()
    {
        await using var app = await IngestionApp.StartAsync(settleSeconds: 1);
        var (path, label) = Fixtures.First(".tif");
        var copy = app.Drop("ahead", path, label.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var dir = Path.GetDirectoryName(copy)!;
        var tomorrow = DateTime.UtcNow.AddDays(1);
        foreach (var f in Directory.EnumerateFiles(dir)) File.SetLastWriteTimeUtc(f, tomorrow);
        Directory.SetLastWriteTimeUtc(dir, tomorrow);

        var first = await app.Ingestor.IngestAsync(10, null, Ct);
        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        var second = await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.Equal((0, 1), (first.Accepted, first.Deferred)); // first seen now
        Assert.Equal((1, 0), (second.Accepted, second.Deferred));
        Assert.False(Directory.Exists(dir));
    }

    /// <summary>
    /// A copy that paused longer than the settle window (a network share) leaves a truncated file that looks settled: it
    /// waits until nothing has written it for <c>Ingestion:IncompleteSeconds</c> (60 s) instead of being rejected as
    /// damaged while the rest of it is still on its way, and is ingested once the copy ends. A file that looks the same
    /// but that nothing has written for longer is rejected at once, as before.
    /// </summary>
    [Fact]
    public async Task AFileThatLooksIncompleteWaitsForItsCopyToEndBeforeItIsRejected()
    {
        await using var app = await IngestionApp.StartAsync(settleSeconds: 1);
        var (path, label) = Fixtures.First(".png");
        var bytes = await File.ReadAllBytesAsync(path, Ct);
        var written = DateTime.UtcNow.AddSeconds(-10);
        string DropAt(string folder, byte[] content, DateTime at)
        {
            var file = app.DropBytes(folder, "scan.png", content, label.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var f in Directory.EnumerateFiles(Path.GetDirectoryName(file)!)) File.SetLastWriteTimeUtc(f, at);
            Directory.SetLastWriteTimeUtc(Path.GetDirectoryName(file)!, at);
            return file;
        }
        var half = DropAt("paused", bytes[..(bytes.Length / 2)], written);
        var outcomes = new List<IngestionOutcome>();

        var first = await app.Ingestor.IngestAsync(10, new SyncProgress<IngestionOutcome>(outcomes.Add), Ct);

        Assert.Equal((0, 0, 1), (first.Accepted, first.Rejected, first.Deferred));
        var deferred = Assert.Single(outcomes);
        Assert.Equal("incomplete", deferred.ReasonCode);
        Assert.StartsWith("looks incomplete (corrupt:", deferred.Reason);
        Assert.True(File.Exists(half));
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.rejected_documents"));

        DropAt("paused", bytes, written); // the copy resumes and ends (its time kept, as copies may)
        var second = await app.Ingestor.IngestAsync(10, null, Ct);
        Assert.Equal((1, 0, 0), (second.Accepted, second.Rejected, second.Deferred));

        DropAt("damaged", bytes[..(bytes.Length / 2)], DateTime.UtcNow.AddMinutes(-2));
        var third = await app.Ingestor.IngestAsync(10, null, Ct);
        Assert.Equal((0, 1, 0), (third.Accepted, third.Rejected, third.Deferred));
        Assert.Equal("corrupt", await app.ScalarAsync<string>("SELECT reason_code FROM ingestion.rejected_documents WHERE source_folder = 'damaged'"));
    }

    /// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread (Progress posts to the thread pool).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    [Fact]
    public async Task TwoRunsAtOnceNeverIngestADocumentTwice()
    {
        await using var app = await IngestionApp.StartAsync();
        var docs = Fixtures.Labelled().Where(d => !d.Path.EndsWith(".pdf")).Take(16).ToList();
        foreach (var (d, i) in docs.Select((d, i) => (d, i)))
            app.Drop($"d{i:00}", d.Path, d.Label.ToString());
        var distinct = docs.Select(d => Sha1(d.Path)).Distinct().Count();

        var runs = await Task.WhenAll(app.Ingestor.IngestAsync(100, null, Ct), app.Ingestor.IngestAsync(100, null, Ct));
        var rest = await app.Ingestor.IngestAsync(100, null, Ct); // whatever a run skipped while the other held it

        Assert.Equal(distinct, runs.Sum(r => r.Accepted) + rest.Accepted);
        Assert.Equal(distinct, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents"));
        Assert.Equal(docs.Count - distinct, runs.Sum(r => r.RejectedByReason.GetValueOrDefault("duplicate")) + rest.RejectedByReason.GetValueOrDefault("duplicate"));
        Assert.Equal(distinct, app.FilesUnder("raw").Count);
    }
}

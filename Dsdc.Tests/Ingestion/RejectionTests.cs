using Dsdc.Ingestion;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Ingestion;

/// <summary>Every refusal: the folder lands in rejected/ whole, with a reason.txt and a database record.</summary>
public sealed class RejectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// An inbox entry the app may not read (dropped by another user, mode 600; simulated here, since the tests may run as
    /// root, by an inspector that answers as the file system would) is one entry's problem: it stays where it is, with the
    /// reason in the run's outcomes, and the entries after it are still ingested.
    /// </summary>
    [Fact]
    public async Task AnEntryTheAppMayNotReadIsLeftInPlaceAndTheEntriesAfterItAreIngested()
    {
        await using var app = await IngestionApp.StartAsync(testServices: services =>
        {
            var registered = services.Last(d => d.ServiceType == typeof(Dsdc.ImageProcessing.IDocumentInspector));
            services.Remove(registered);
            services.AddSingleton<Dsdc.ImageProcessing.IDocumentInspector>(sp => new DenyingInspector(registered.ImplementationFactory is { } factory
                ? (Dsdc.ImageProcessing.IDocumentInspector)factory(sp)
                : (Dsdc.ImageProcessing.IDocumentInspector)ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!)));
        });
        var png = Fixtures.First(".png");
        var tif = Fixtures.First(".tif");
        app.Drop("a-locked", png.Path, "1", name: "locked.png");
        app.Drop("b-readable", tif.Path, tif.Label.ToString());

        var outcomes = new List<IngestionOutcome>();
        var summary = await app.Ingestor.IngestAsync(100, new Collect(outcomes), Ct);

        Assert.Equal((1, 1), (summary.Accepted, summary.Deferred));
        var locked = Assert.Single(outcomes, o => o.Folder == "a-locked");
        Assert.Equal((IngestionOutcomeKind.Deferred, "unreadable"), (locked.Kind, locked.ReasonCode));
        Assert.Contains("may not read", locked.Reason);
        Assert.True(File.Exists(Path.Combine(app.Paths.Inbox, "a-locked", "locked.png")));
        Assert.Equal(1L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.documents"));
    }

    /// <summary>
    /// A PDF the machine cannot read now (mutool missing, or killed from outside) is the setup's problem: the PDF stays in
    /// the inbox, deferred with the reason, nothing is rejected, and the entries after it are still ingested. An uploaded
    /// one is left in the inbox too, with the class given with it.
    /// </summary>
    [Fact]
    public async Task APdfThatCannotBeReadForWantOfMutoolWaitsInTheInboxAndTheEntriesAfterItAreIngested()
    {
        await using var app = await IngestionApp.StartAsync(testServices: services =>
            services.PostConfigure<Dsdc.ImageProcessing.ImagingOptions>(o => o.MutoolPath = "/nonexistent/mutool"));
        var tif = Fixtures.First(".tif");
        app.Drop("a-pdf", Dsdc.Tests.ImageProcessing.TestDocuments.TextPdf, "11");
        app.Drop("b-scan", tif.Path, tif.Label.ToString());

        var outcomes = new List<IngestionOutcome>();
        var summary = await app.Ingestor.IngestAsync(100, new Collect(outcomes), Ct);

        Assert.Equal((1, 1, 0), (summary.Accepted, summary.Deferred, summary.Rejected));
        var pdf = Assert.Single(outcomes, o => o.Folder == "a-pdf");
        Assert.Equal((IngestionOutcomeKind.Deferred, "pdf-reader-unavailable"), (pdf.Kind, pdf.ReasonCode));
        Assert.Contains("Imaging:MutoolPath", pdf.Reason);
        Assert.True(File.Exists(Path.Combine(app.Paths.Inbox, "a-pdf", Path.GetFileName(Dsdc.Tests.ImageProcessing.TestDocuments.TextPdf))));

        var upload = Assert.Single(await app.Ingestor.IngestUploadsAsync(app.Ingestor.NewBatchId(),
            [new UploadedFile("invoice.pdf", async (target, c) =>
            {
                await using var source = File.OpenRead(Dsdc.Tests.ImageProcessing.TestDocuments.TwoPageTextPdf);
                await source.CopyToAsync(target, c);
            })],
            new IncomingLabel(11, "admin"), Ct));
        Assert.Equal((IngestionOutcomeKind.Deferred, "pdf-reader-unavailable"), (upload.Kind, upload.ReasonCode));
        Assert.True(File.Exists(Path.Combine(app.Paths.Inbox, upload.Folder, "invoice.pdf")));
        Assert.False(File.Exists(Path.Combine(app.Paths.Inbox, upload.Folder, "label.txt")));

        // mutool back: the entries are ingested, the upload with the class given with it and who gave it.
        app.Services.GetRequiredService<IOptions<Dsdc.ImageProcessing.ImagingOptions>>().Value.MutoolPath = "mutool";
        outcomes.Clear();
        summary = await app.Ingestor.IngestAsync(100, new Collect(outcomes), Ct);

        Assert.Equal((2, 0, 0), (summary.Accepted, summary.Deferred, summary.Rejected));
        var stored = Assert.Single(outcomes, o => o.Folder == upload.Folder);
        Assert.Equal(("human", (short)11, "admin"), Assert.Single(await app.QueryAsync<(string, short, string)>(
            "SELECT source, label, created_by FROM ingestion.labels WHERE document_id = @id", new { id = stored.DocumentId })));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.upload_labels"));
    }

    /// <summary>
    /// A PDF that gets mutool killed (SIGKILL: as the out-of-memory killer does) whenever its pages are listed counts as a
    /// death on the file, as the process's own would: deferred each time, then rejected as <c>inspection-crashed</c>
    /// after <see cref="InboxIngestor.MaxInspectionDeaths"/>, instead of waiting in the inbox for good.
    /// </summary>
    [Fact]
    public async Task APdfThatGetsMutoolKilledEveryTimeIsSetAsideAfterThreeDeaths()
    {
        using var scratch = new ScratchFolder("dsdc-killed-mutool-");
        var fake = scratch.File("mutool");
        File.WriteAllText(fake, "#!/bin/sh\nkill -9 $$\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var app = await IngestionApp.StartAsync(testServices: services =>
            services.PostConfigure<Dsdc.ImageProcessing.ImagingOptions>(o => o.MutoolPath = fake));
        app.Drop("killer", Dsdc.Tests.ImageProcessing.TestDocuments.TextPdf, "11");

        var reasons = new List<string?>();
        for (var run = 0; run <= InboxIngestor.MaxInspectionDeaths; run++)
        {
            var outcomes = new List<IngestionOutcome>();
            await app.Ingestor.IngestAsync(100, new Collect(outcomes), Ct);
            reasons.Add(Assert.Single(outcomes).ReasonCode);
        }

        Assert.Equal(["pdf-reader-unavailable", "pdf-reader-unavailable", "pdf-reader-unavailable", InboxIngestor.InspectionCrashedReason], reasons);
        Assert.True(Directory.Exists(Path.Combine(app.Paths.Rejected, "killer")));
    }

    /// <summary>
    /// A rejection whose folder an operator removed from rejected/ leaves its record; the next folder of that name rejected
    /// gets the path again, and its record says why it lies there now (not the old reason).
    /// </summary>
    [Fact]
    public async Task ARejectionAtAPathAnOperatorEmptiedIsRecordedAnew()
    {
        await using var app = await IngestionApp.StartAsync();
        app.DropBytes("invoice", "empty.png", [], "0");
        await app.Ingestor.IngestAsync(100, null, Ct);
        Directory.Delete(Path.Combine(app.Paths.Rejected, "invoice"), recursive: true);

        app.DropBytes("invoice", "notes.tif", "This is a plain text file, not a scan."u8.ToArray(), "0");
        await app.Ingestor.IngestAsync(100, null, Ct);

        var row = Assert.Single(await app.QueryAsync<(string Code, string File)>(
            "SELECT reason_code, file_name FROM ingestion.rejected_documents WHERE rejected_path = @path", new { path = Path.Combine("rejected", "invoice") }));
        Assert.Equal(("unsupported-format", "notes.tif"), row);
        Assert.StartsWith("unsupported-format:", File.ReadAllText(Path.Combine(app.Paths.Rejected, "invoice", "reason.txt")));
    }

    /// <summary>
    /// A reason.txt already in a refused folder that writing would go through or block on (a symbolic link to a file
    /// outside, or to nowhere; a named pipe; a folder of that name) is never written to: the folder moves whole into a
    /// rejected/ folder of its own that carries the reason, the link's target untouched and nothing created where a dangling
    /// link points.
    /// </summary>
    [Fact]
    public async Task AReasonFileThatIsALinkAPipeOrAFolderIsNeverWrittenThrough()
    {
        await using var app = await IngestionApp.StartAsync();
        var outside = Directory.CreateTempSubdirectory("dsdc-outside-").FullName;
        try
        {
            var precious = Path.Combine(outside, "precious.txt");
            File.WriteAllText(precious, "keep me");
            var nowhere = Path.Combine(outside, "nowhere.txt");
            app.DropBytes("linked", "scan.png", [], "0");
            File.CreateSymbolicLink(Path.Combine(app.Paths.Inbox, "linked", "reason.txt"), precious);
            app.DropBytes("dangling", "scan.png", [], "0");
            File.CreateSymbolicLink(Path.Combine(app.Paths.Inbox, "dangling", "reason.txt"), nowhere);
            app.DropBytes("piped", "scan.png", [], "0");
            Dsdc.Tests.Reliability.BadInputCorpusTests.Mkfifo(Path.Combine(app.Paths.Inbox, "piped", "reason.txt"));
            app.DropBytes("nested", "scan.png", [], "0");
            Directory.CreateDirectory(Path.Combine(app.Paths.Inbox, "nested", "reason.txt"));

            var summary = await app.Ingestor.IngestAsync(100, null, Ct).WaitAsync(TimeSpan.FromMinutes(2), Ct);

            Assert.Equal(4, summary.Rejected);
            Assert.Equal("keep me", File.ReadAllText(precious));
            Assert.False(File.Exists(nowhere));
            foreach (var (folder, code) in new[] { ("linked", "symbolic-link"), ("dangling", "symbolic-link"), ("piped", "empty-file"), ("nested", "unexpected-content") })
            {
                Assert.StartsWith(code + ":", File.ReadAllText(Path.Combine(app.Paths.Rejected, folder, "reason.txt")));
                Assert.True(File.Exists(Path.Combine(app.Paths.Rejected, folder, folder, "scan.png")), folder);
            }
            Assert.Empty(Directory.EnumerateFileSystemEntries(app.Paths.Inbox));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    private sealed class DenyingInspector(Dsdc.ImageProcessing.IDocumentInspector inner) : Dsdc.ImageProcessing.IDocumentInspector
    {
        public Dsdc.ImageProcessing.DocumentInfo Inspect(string path) =>
            Path.GetFileName(path) == "locked.png" ? throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.") : inner.Inspect(path);
    }

    [Fact]
    public async Task EachBadInputIsRejectedWithAClearReasonAndNothingIsLost()
    {
        await using var app = await IngestionApp.StartAsync();
        var tif = Fixtures.First(".tif");
        var png = Fixtures.First(".png");
        var tifBytes = await File.ReadAllBytesAsync(tif.Path, Ct);

        app.Drop("original", tif.Path, tif.Label.ToString());
        app.Drop("zduplicate", tif.Path, tif.Label.ToString(), name: "copy-of-original.tif");
        app.DropBytes("corrupt-tiff", "broken.tif", tifBytes[..Math.Min(300, tifBytes.Length / 3)], "0");
        app.DropBytes("zero-bytes", "empty.png", [], "0");
        app.DropBytes("not-an-image", "notes.tif", "This is a plain text file, not a scan."u8.ToArray(), "0");
        app.DropBytes("huge-dimensions", "bomb.png", Fixtures.PngHeaderOnly(100_000, 100_000), "0");
        app.Drop("label-garbage", png.Path, "eleven");
        app.Drop("label-too-big", png.Path, "16", name: "b.png");
        app.Drop("label-negative", png.Path, "-1", name: "c.png");
        app.Drop("label-non-ascii", png.Path, "١١", name: "d.png");
        Directory.CreateDirectory(Path.Combine(app.Paths.Inbox, "empty-folder"));
        app.DropBytes("label-only", "label.txt", "3"u8.ToArray());
        app.Drop("two-files", png.Path, "1", name: "one.png");
        app.Drop("two-files", tif.Path, name: "two.tif");
        Directory.CreateDirectory(Path.Combine(app.Paths.Inbox, "link"));
        File.CreateSymbolicLink(Path.Combine(app.Paths.Inbox, "link", "page.tif"), tif.Path);
        var expected = new Dictionary<string, string>
        {
            ["zduplicate"] = "duplicate", ["corrupt-tiff"] = "corrupt", ["zero-bytes"] = "empty-file",
            ["not-an-image"] = "unsupported-format", ["huge-dimensions"] = "too-many-pixels",
            ["label-garbage"] = "invalid-label", ["label-too-big"] = "invalid-label", ["label-negative"] = "invalid-label",
            ["label-non-ascii"] = "invalid-label", ["empty-folder"] = "empty-folder", ["label-only"] = "empty-folder",
            ["two-files"] = "multiple-files", ["link"] = "symbolic-link",
        };
        var filesBefore = CountFiles(app.Paths.Inbox);

        var summary = await app.Ingestor.IngestAsync(100, null, Ct);

        Assert.Equal(1, summary.Accepted);
        Assert.Equal(expected.Count, summary.Rejected);
        var rows = (await app.QueryAsync<(string SourceFolder, string ReasonCode, string Reason, string RejectedPath)>(
            "SELECT source_folder, reason_code, reason, rejected_path FROM ingestion.rejected_documents")).ToDictionary(r => r.SourceFolder);
        foreach (var (folder, code) in expected)
        {
            Assert.True(rows.ContainsKey(folder), $"no rejection recorded for {folder}");
            Assert.Equal(code, rows[folder].ReasonCode);
            var reasonFile = Path.Combine(app.Paths.DataDir, rows[folder].RejectedPath, "reason.txt");
            Assert.StartsWith(code + ": ", await File.ReadAllTextAsync(reasonFile, Ct));
        }
        Assert.Contains(await app.ScalarAsync<string>("SELECT id FROM ingestion.original_documents"), rows["zduplicate"].Reason);
        Assert.Contains("original/", rows["zduplicate"].Reason);
        // Nothing lost: every document file that arrived is in raw/ or rejected/.
        var after = app.FilesUnder("raw").Count + app.FilesUnder("rejected").Count(f => Path.GetFileName(f) is not ("reason.txt" or "label.txt"));
        Assert.Equal(filesBefore, after);
        Assert.Empty(app.InboxEntries());
        Assert.True(new FileInfo(Path.Combine(app.Paths.Rejected, "link", "page.tif")).LinkTarget is not null, "the link itself moved, unfollowed");
    }

    /// <summary>
    /// A folder copied from a Mac or a Windows share holds the operating system's files beside its document (.DS_Store,
    /// AppleDouble ._ files, Thumbs.db, desktop.ini): they are not documents, so the folder is not refused as holding
    /// several files; they go with the folder once the document is stored. A folder holding nothing else is refused as
    /// empty, saying so; such a file at the inbox root is left alone.
    /// </summary>
    [Fact]
    public async Task TheOperatingSystemsFilesBesideADocumentAreNotDocuments()
    {
        await using var app = await IngestionApp.StartAsync();
        var (path, label) = Fixtures.First(".tif");
        app.Drop("from-a-mac", path, label.ToString(System.Globalization.CultureInfo.InvariantCulture), name: "scan.tif");
        foreach (var name in new[] { ".DS_Store", "._scan.tif", "Thumbs.db", "desktop.ini" })
            File.WriteAllBytes(Path.Combine(app.Paths.Inbox, "from-a-mac", name), [0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]);
        app.DropBytes("only-metadata", ".DS_Store", [0, 0, 0, 1]);
        File.WriteAllBytes(Path.Combine(app.Paths.Inbox, "Thumbs.db"), [1, 2, 3]);

        var outcomes = new List<IngestionOutcome>();
        var summary = await app.Ingestor.IngestAsync(100, new Collect(outcomes), Ct);

        Assert.Equal((1, 1), (summary.Accepted, summary.Rejected));
        Assert.Equal([("scan.tif", (short)label)], await app.QueryAsync<(string, short)>("""
            SELECT d.original_name, l.label FROM ingestion.documents d JOIN ingestion.labels l ON l.document_id = d.id
            WHERE d.source_folder = 'from-a-mac'
            """));
        Assert.False(Directory.Exists(Path.Combine(app.Paths.Inbox, "from-a-mac")));
        var refused = Assert.Single(outcomes, o => o.Folder == "only-metadata");
        Assert.Equal((IngestionOutcomeKind.Rejected, "empty-folder"), (refused.Kind, refused.ReasonCode));
        Assert.Contains("only the operating system's .DS_Store", refused.Reason);
        Assert.True(File.Exists(Path.Combine(app.Paths.Rejected, "only-metadata", ".DS_Store")));
        Assert.True(File.Exists(Path.Combine(app.Paths.Inbox, "Thumbs.db")));
        Assert.DoesNotContain(outcomes, o => o.Folder == "Thumbs");
    }

    /// <summary>
    /// The inbox on a volume of its own (a real tmpfs mounted at data/to_ingest, as a scanner's share would be; needs
    /// root): where a rename fails across volumes, a refused folder still lands in rejected/ whole with its reason, a
    /// folder whose reason.txt is a named pipe too (copied as a pipe, never opened), and an upload is stored; nothing
    /// hidden is left behind.
    /// </summary>
    [Fact]
    public async Task AnInboxOnAVolumeOfItsOwnStillRejectsFoldersAndTakesUploads()
    {
        await using var app = await IngestionApp.StartAsync();
        var inbox = app.Paths.Inbox;
        Directory.CreateDirectory(inbox);
        if (!await Commands.RunAsync("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", inbox))
            Assert.Skip("mounting a tmpfs needs root (CAP_SYS_ADMIN); this run cannot put the inbox on a volume of its own");
        try
        {
            var (path, label) = Fixtures.First(".tif");
            app.Drop("good", path, label.ToString(System.Globalization.CultureInfo.InvariantCulture));
            app.DropBytes("bad", "notes.tif", "This is a plain text file, not a scan."u8.ToArray(), "0");
            app.DropBytes("piped", "notes.tif", "Not a scan either."u8.ToArray());
            Assert.True(await Commands.RunAsync("mkfifo", Path.Combine(inbox, "piped", "reason.txt")));
            // A link to a folder elsewhere: refused, and moved as a link (its target neither followed nor changed).
            var elsewhere = Directory.CreateTempSubdirectory("dsdc-link-target-").FullName;
            await File.WriteAllTextAsync(Path.Combine(elsewhere, "private.txt"), "not the app's", Ct);
            Directory.CreateSymbolicLink(Path.Combine(inbox, "linked"), elsewhere);
            // A move to the other volume that a stopped process left midway: the folder set aside, with its name.
            app.DropBytes(".moving-0123abcd", "notes.tif", "Left aside."u8.ToArray());
            await File.WriteAllTextAsync(Path.Combine(inbox, ".moving-0123abcd.name"), "interrupted", Ct);

            var outcomes = new List<IngestionOutcome>();
            var summary = await app.Ingestor.IngestAsync(100, new Collect(outcomes), Ct);

            Assert.True((1, 4, 0) == (summary.Accepted, summary.Rejected, summary.Deferred), string.Join("; ", outcomes));
            Assert.Equal(elsewhere, new DirectoryInfo(Path.Combine(app.Paths.Rejected, "linked", "linked")).LinkTarget);
            Assert.Equal(["private.txt"], Directory.EnumerateFileSystemEntries(elsewhere).Select(Path.GetFileName));
            Assert.True(File.Exists(Path.Combine(app.Paths.Rejected, "interrupted", "notes.tif")));
            Assert.StartsWith("unsupported-format:", File.ReadAllText(Path.Combine(app.Paths.Rejected, "bad", "reason.txt")));
            Assert.True(File.Exists(Path.Combine(app.Paths.Rejected, "bad", "notes.tif")));
            Assert.StartsWith("unsupported-format:", File.ReadAllText(Path.Combine(app.Paths.Rejected, "piped", "reason.txt")));
            Assert.True(File.Exists(Path.Combine(app.Paths.Rejected, "piped", "piped", "notes.tif")));
            Assert.Empty(Directory.EnumerateFileSystemEntries(inbox));
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(app.Paths.Rejected), e => Path.GetFileName(e).StartsWith('.'));

            var png = Fixtures.First(".png").Path;
            var upload = await app.Ingestor.IngestUploadsAsync(app.Ingestor.NewBatchId(),
                [new UploadedFile("page.png", async (target, c) => { await using var source = File.OpenRead(png); await source.CopyToAsync(target, c); })],
                null, Ct);
            var stored = Assert.Single(upload);
            Assert.True(stored.Kind == IngestionOutcomeKind.Accepted, stored.ToString());
            Assert.Empty(Directory.EnumerateFileSystemEntries(inbox));
            Assert.Equal(2L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.documents"));
        }
        finally
        {
            await Commands.RunAsync("umount", "-l", inbox);
        }
    }

    [Fact]
    public async Task AFolderRejectedTwiceKeepsBothCopies()
    {
        await using var app = await IngestionApp.StartAsync();
        app.DropBytes("same-name", "empty.tif", [], "0");
        await app.Ingestor.IngestAsync(10, null, Ct);
        app.DropBytes("same-name", "empty.tif", [], "0");

        await app.Ingestor.IngestAsync(10, null, Ct);

        Assert.True(Directory.Exists(Path.Combine(app.Paths.Rejected, "same-name")));
        Assert.True(Directory.Exists(Path.Combine(app.Paths.Rejected, "same-name~2")));
        Assert.Equal(2, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.rejected_documents"));
    }

    private static int CountFiles(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Count(f => Path.GetFileName(f) is not ("label.txt" or ".gitkeep"));
}

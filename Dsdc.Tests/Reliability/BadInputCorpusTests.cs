using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Tests.Api;
using Dsdc.Tests.Auth;
using Dsdc.Tests.ImageProcessing;
using Dsdc.Tests.Infrastructure;
using Dsdc.Tests.Ingestion;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Reliability;

/// <summary>
/// The bad-input corpus, one table. Kinds already covered elsewhere (RejectionTests: corrupt TIFF, zero bytes, non-image,
/// PNG bomb header, label garbage / 16 / negative / Arabic digits, empty folder, label only, two files, link inside a folder,
/// duplicate; DocumentInspectorTests: encrypted and truncated PDF, page limits) are not repeated except where the
/// predict API needs the bytes. Every kind goes through real ingestion (and the stages for the accepted ones):
/// an outcome with a reason, within a time limit per document, nothing lost, bounded memory.
/// </summary>
public sealed class BadInputCorpusTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The most one inbox entry may take to be accepted or rejected.</summary>
    public static readonly TimeSpan PerDocumentLimit = TimeSpan.FromSeconds(60);

    /// <summary>Growth of the test process's working set allowed while the corpus is ingested and processed.</summary>
    public const long MemoryGrowthBound = 1536L * 1024 * 1024;

    public const string Accepted = "accepted";

    /// <param name="Expected">outcomes allowed: "accepted" or rejection reason codes.</param>
    /// <param name="Content">the document's bytes for the predict API, where the kind is about content.</param>
    public sealed record Kind(string Folder, Action<Corpus> Make, string[] Expected, Func<byte[]>? Content = null, string? UploadName = null);

    /// <summary>Where a kind writes: the inbox, and a folder outside it for link targets.</summary>
    public sealed class Corpus(string inbox, string outside)
    {
        public string Inbox => inbox;
        public string Outside => outside;

        public string Dir(string folder) { var d = Path.Combine(inbox, folder); Directory.CreateDirectory(d); return d; }

        public string Put(string folder, string name, byte[] bytes, string? label = null)
        {
            var dir = Dir(folder);
            File.WriteAllBytes(Path.Combine(dir, name), bytes);
            if (label is not null) File.WriteAllBytes(Path.Combine(dir, "label.txt"), Encoding.UTF8.GetBytes(label));
            return Path.Combine(dir, name);
        }
    }

    private static string Png(int i) => Fixtures.Labelled().Where(d => d.Path.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).ElementAt(i).Path;
    private static string Tif => Fixtures.First(".tif").Path;
    private static string Jpg => Fixtures.First(".jpg").Path;
    private static byte[] Blank(int w) => Fixtures.PngBlankPage(w, 64);

    private static byte[] EncryptedPdf()
    {
        using var scratch = new ScratchFolder("dsdc-locked-pdf-");
        var path = scratch.File("locked.pdf");
        TestDocuments.Mutool("clean", "-E", "aes-256", "-U", "user-secret", "-O", "owner-secret", TestDocuments.TextPdf, path);
        return File.ReadAllBytes(path);
    }

    private static readonly Lazy<byte[]> DrawingBomb = new(() => Dsdc.ImageProcessing.PdfReadingBenchmarkCommand.DrawingBombPdf(2_000_000));

    /// <summary>The table: 41 kinds here (and 4 built in the ingestion test); with the 16 of RejectionTests and DocumentInspectorTests, 61 in all.</summary>
    public static IReadOnlyList<Kind> Kinds { get; } =
    [
        // Truncated or corrupt files of each format.
        new("png-truncated", c => c.Put("png-truncated", "t.png", BadInputs.Truncate(Png(0)), "1"), ["corrupt"], () => BadInputs.Truncate(Png(0))),
        new("png-corrupt-data", c => c.Put("png-corrupt-data", "c.png", BadInputs.Scramble(Png(0), 40), "1"), ["corrupt"], () => BadInputs.Scramble(Png(0), 40)),
        new("jpeg-truncated", c => c.Put("jpeg-truncated", "t.jpg", BadInputs.Truncate(Jpg, 0.3), "1"), ["corrupt", Accepted], () => BadInputs.Truncate(Jpg, 0.3)),
        new("jpeg-corrupt", c => c.Put("jpeg-corrupt", "c.jpg", BadInputs.Scramble(Jpg, 4), "1"), ["corrupt"], () => BadInputs.Scramble(Jpg, 4)),
        new("tiff-header-only", c => c.Put("tiff-header-only", "h.tif", File.ReadAllBytes(Tif)[..8], "1"), ["corrupt"], () => File.ReadAllBytes(Tif)[..8]),
        new("tiff-page-2-truncated", c => c.Put("tiff-page-2-truncated", "m.tif", Fixtures.MultiPageTiff(2)[..(320 * 400 + 320 * 200)], "1"), ["corrupt"]),
        new("pdf-truncated", c => c.Put("pdf-truncated", "t.pdf", BadInputs.Truncate(TestDocuments.TextPdf, 0.5), "1"), ["corrupt", Accepted], () => BadInputs.Truncate(TestDocuments.TextPdf, 0.5)),
        new("pdf-garbage", c => c.Put("pdf-garbage", "g.pdf", [.. "%PDF-1.7\n"u8, .. new byte[3000].Select((_, i) => (byte)(i * 31))], "1"), ["corrupt"],
            () => [.. "%PDF-1.7\n"u8, .. new byte[3000].Select((_, i) => (byte)(i * 31))]),
        new("bmp-truncated", c => c.Put("bmp-truncated", "t.bmp", BadInputs.Bmp(64, 64)[..1200], "1"), ["corrupt"], () => BadInputs.Bmp(64, 64)[..1200]),
        new("gif-unsupported", c => c.Put("gif-unsupported", "a.gif", [.. "GIF89a"u8, 1, 0, 1, 0, 0, 0, 0, 0x3B], "1"), ["unsupported-format"], () => [.. "GIF89a"u8, 1, 0, 1, 0, 0, 0, 0, 0x3B]),
        // Decompression bombs: huge declared sizes in a few bytes.
        new("bomb-tiff", c => c.Put("bomb-tiff", "b.tif", BadInputs.TiffHeaderOnly(100_000, 100_000), "1"), ["too-many-pixels"], () => BadInputs.TiffHeaderOnly(100_000, 100_000)),
        new("bomb-jpeg", c => c.Put("bomb-jpeg", "b.jpg", BadInputs.JpegDeclaring(Jpg, 65_000, 65_000), "1"), ["too-many-pixels"], () => BadInputs.JpegDeclaring(Jpg, 65_000, 65_000)),
        new("jpeg-header-only", c => c.Put("jpeg-header-only", "h.jpg", BadInputs.JpegHeaderOnly(640, 480), "1"), ["corrupt"], () => BadInputs.JpegHeaderOnly(640, 480)),
        new("bomb-bmp", c => c.Put("bomb-bmp", "b.bmp", BadInputs.Bmp(60_000, 60_000, pixels: false), "1"), ["too-many-pixels", "corrupt"], () => BadInputs.Bmp(60_000, 60_000, pixels: false)),
        new("declared-20000x20000", c => c.Put("declared-20000x20000", "big.png", Fixtures.PngHeaderOnly(20_000, 20_000), "1"), ["too-many-pixels"], () => Fixtures.PngHeaderOnly(20_000, 20_000)),
        new("over-size-limit", c => { using var f = File.Create(Path.Combine(c.Dir("over-size-limit"), "huge.tif")); f.Write("II*\0"u8); f.SetLength(60L * 1024 * 1024); }, ["too-large"]),
        // PDFs: encrypted, thousands of pages, a drawing that inflates.
        new("pdf-encrypted", c => c.Put("pdf-encrypted", "locked.pdf", EncryptedPdf(), "1"), ["encrypted"], EncryptedPdf),
        new("pdf-5000-pages", c => c.Put("pdf-5000-pages", "many.pdf", BadInputs.ManyPagePdf(5000), "1"), ["too-many-pages"], () => BadInputs.ManyPagePdf(5000)),
        // A page whose drawing inflates to 54 MB of operators: read by mutool in a process of its own, under its time limit.
        new("pdf-drawing-bomb", c => c.Put("pdf-drawing-bomb", "dense.pdf", DrawingBomb.Value, "1"), [Accepted], () => DrawingBomb.Value),
        // Tiny but valid images: processed.
        new("png-1x1", c => c.Put("png-1x1", "dot.png", Fixtures.PngBlankPage(1, 1), "2"), [Accepted], () => Fixtures.PngBlankPage(1, 1)),
        new("tiff-1x1", c => c.Put("tiff-1x1", "dot.tif", Fixtures.MultiPageTiff(1, 1, 1), "2"), [Accepted], () => Fixtures.MultiPageTiff(1, 1, 1)),
        new("bmp-1x1", c => c.Put("bmp-1x1", "dot.bmp", BadInputs.Bmp(1, 1), "2"), [Accepted], () => BadInputs.Bmp(1, 1)),
        // Wrong extensions: the content decides.
        new("png-named-pdf", c => c.Put("png-named-pdf", "scan.pdf", File.ReadAllBytes(Png(1)), "3"), [Accepted], () => File.ReadAllBytes(Png(1)), "scan.pdf"),
        new("pdf-named-png", c => c.Put("pdf-named-png", "page.png", File.ReadAllBytes(TestDocuments.TwoPageTextPdf), "3"), [Accepted], () => File.ReadAllBytes(TestDocuments.TwoPageTextPdf), "page.png"),
        new("no-extension", c => c.Put("no-extension", "scan", File.ReadAllBytes(Png(2)), "3"), [Accepted]),
        // Names: very long, traversal-looking, leading dashes (kept as data, never interpreted).
        new("name-255-bytes", c => c.Put("name-255-bytes", new string('n', 251) + ".png", Blank(301), "4"), [Accepted], () => Blank(301), new string('n', 251) + ".png"),
        new("name-traversal", c => c.Put("name-traversal", @"..\..\..\etc\passwd.png", Blank(302), "4"), [Accepted], () => Blank(302), "../../../etc/passwd.png"),
        new(@"folder..\..\backslash", c => c.Put(@"folder..\..\backslash", "a.png", Blank(303), "4"), [Accepted]),
        new("-rf --leading-dash", c => c.Put("-rf --leading-dash", "--help.png", Blank(304), "4"), [Accepted], () => Blank(304), "--help.png"),
        new("name-non-ascii-ünïcödé", c => c.Put("name-non-ascii-ünïcödé", "文書.png", Blank(305), "4"), [Accepted]),
        // Symbolic links: to a file outside, to a folder outside, dangling, and a loose link at the inbox root.
        new("link-folder-outside", c => Directory.CreateSymbolicLink(Path.Combine(c.Inbox, "link-folder-outside"), c.Outside), ["symbolic-link"]),
        new("link-dangling", c => File.CreateSymbolicLink(Path.Combine(c.Dir("link-dangling"), "gone.png"), Path.Combine(c.Outside, "does-not-exist.png")), ["symbolic-link"]),
        new("link-to-outside-file", c => File.CreateSymbolicLink(Path.Combine(c.Dir("link-to-outside-file"), "x.png"), Path.Combine(c.Outside, "target.png")), ["symbolic-link"]),
        new("sub-folder", c => { c.Put("sub-folder", "a.png", Blank(306), "4"); Directory.CreateDirectory(Path.Combine(c.Dir("sub-folder"), "nested")); }, ["unexpected-content"]),
        // label.txt: the values RejectionTests does not cover.
        new("label-empty", c => c.Put("label-empty", "a.png", Blank(307), ""), ["invalid-label"]),
        new("label-huge", c => c.Put("label-huge", "a.png", Blank(308), "99999999999"), ["invalid-label"]),
        new("label-bom", c => c.Put("label-bom", "a.png", Blank(309), "\uFEFF7"), [Accepted]),
        new("label-crlf", c => c.Put("label-crlf", "a.png", Blank(310), "7\r\n"), [Accepted]),
        new("label-nul-bytes", c => c.Put("label-nul-bytes", "a.png", Blank(311), "7\0\0"), ["invalid-label"]),
        new("label-one-mebibyte", c => c.Put("label-one-mebibyte", "a.png", Blank(312), new string('7', 1 << 20)), ["invalid-label"]),
        new("label-plus-sign", c => c.Put("label-plus-sign", "a.png", Blank(313), "+7"), ["invalid-label"]),
    ];

    [Fact]
    public void TheCorpusHasAtLeastThirtyKinds()
    {
        // 16 kinds live in RejectionTests (13) and DocumentInspectorTests (encrypted, truncated PDF, page limits).
        Assert.True(Kinds.Count + 16 >= 30, $"{Kinds.Count} kinds");
        Assert.Equal(Kinds.Count, Kinds.Select(k => k.Folder).Distinct().Count());
    }

    [Fact]
    public async Task EveryKindGetsAnOutcomeWithAReasonInTimeWithNothingLostAndBoundedMemory()
    {
        await using var app = await IngestionApp.StartAsync();
        try
        {
            await RunCorpusAsync(app);
        }
        finally
        {
            // .NET cannot delete entries whose names are not UTF-8: rm can.
            using var rm = Process.Start("rm", ["-rf", app.DataDir]);
            await rm.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static async Task RunCorpusAsync(IngestionApp app)
    {
        using var scratch = new ScratchFolder("dsdc-outside-");
        var outside = scratch.Path;
        File.WriteAllBytes(Path.Combine(outside, "target.png"), Blank(399));
        var corpus = new Corpus(app.Paths.Inbox, outside);
        foreach (var kind in Kinds) kind.Make(corpus);
        // A file and a folder whose names are not UTF-8: .NET decodes them with U+FFFD and cannot open them by that name.
        BadInputs.RenameToRawBytes(corpus.Put("raw-name-file", "x.png", Blank(320), "5"), [0x66, 0xFF, 0xFE, (byte)'.', (byte)'p', (byte)'n', (byte)'g']);
        corpus.Put("raw-name-folder", "a.png", Blank(321), "5");
        BadInputs.RenameToRawBytes(Path.Combine(app.Paths.Inbox, "raw-name-folder"), [0x72, 0xE9, 0x73, 0x75, 0x6D, 0xE9]);
        // A loose dangling link at the inbox root (wrapped into a folder, then refused).
        File.CreateSymbolicLink(Path.Combine(app.Paths.Inbox, "loose-dangling.png"), Path.Combine(outside, "nothing-here.png"));
        // A named pipe: opening it for reading would block forever.
        Mkfifo(Path.Combine(corpus.Dir("fifo"), "pipe.png"));
        File.WriteAllText(Path.Combine(corpus.Dir("fifo"), "label.txt"), "1");
        // A named pipe as the label.txt of a real page: never opened either (reading it would hold the run for good).
        corpus.Put("fifo-label", "page.png", Blank(322));
        Mkfifo(Path.Combine(corpus.Dir("fifo-label"), "label.txt"));

        var before = BadInputs.CountEntries(app.Paths.Inbox);
        using var memory = new MemoryWatch();
        var outcomes = new ConcurrentDictionary<string, IngestionOutcome>();
        var slowest = TimeSpan.Zero;
        var lap = Stopwatch.StartNew();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromMinutes(6));

        var summary = await app.Ingestor.IngestAsync(1000, new SyncProgress<IngestionOutcome>(o =>
        {
            outcomes[o.Folder] = o;
            if (lap.Elapsed > slowest) slowest = lap.Elapsed;
            lap.Restart();
        }), limit.Token);
        var (_, totals) = await app.Services.GetRequiredService<PipelineRunner>().RunUntilEmptyAsync(null, limit.Token);

        var report = string.Join("\n", outcomes.Values.OrderBy(o => o.Folder).Select(o => $"{o.Folder}: {o.Kind} {o.ReasonCode} {o.Reason}"));
        foreach (var kind in Kinds)
        {
            var outcome = outcomes.GetValueOrDefault(kind.Folder);
            Assert.True(outcome is not null, $"no outcome for {kind.Folder}\n{report}");
            var got = outcome.Kind == IngestionOutcomeKind.Accepted ? Accepted : outcome.ReasonCode!;
            Assert.True(kind.Expected.Contains(got), $"{kind.Folder}: {got} ({outcome.Reason}), expected {string.Join("|", kind.Expected)}\n{report}");
            if (got != Accepted) Assert.False(string.IsNullOrWhiteSpace(outcome.Reason), kind.Folder);
        }
        Assert.Equal("symbolic-link", outcomes.Values.Single(o => o.Folder.StartsWith("loose-dangling")).ReasonCode);
        Assert.True(outcomes.TryGetValue("fifo", out var fifo) && fifo.ReasonCode is "not-a-file" or "empty-file", report);
        Assert.True(outcomes.TryGetValue("fifo-label", out var fifoLabel) && fifoLabel.ReasonCode == "invalid-label", report);
        // Non-UTF-8 names: refused with a reason, never lost, never retried forever.
        Assert.Equal("unreadable-name", outcomes.Values.Single(o => o.Folder == "raw-name-file").ReasonCode);
        Assert.Equal("unreadable-name", outcomes.Values.Single(o => o.Folder.StartsWith("r\uFFFDsum")).ReasonCode);
        Assert.True(slowest < PerDocumentLimit, $"one inbox entry took {slowest}");

        // Nothing lost: every file (links included) that arrived is in raw/ or rejected/, and the inbox is empty.
        var after = BadInputs.CountEntries(Path.Combine(app.DataDir, "raw")) + BadInputs.CountEntries(app.Paths.Rejected);
        Assert.Equal(before, after);
        Assert.Empty(app.InboxEntries());
        Assert.Single(Directory.GetFiles(outside, "target.png")); // a link target is never moved or deleted
        Assert.Equal(summary.Accepted, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE ingest_state = 'stored'"));
        Assert.Equal(summary.Rejected, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.rejected_documents"));
        Assert.Empty(Directory.EnumerateFiles(app.DataDir, "*.tmp", SearchOption.AllDirectories));

        // Every accepted document went through the stages, or failed a stage with a recorded reason.
        var unprocessed = await app.QueryAsync<string>("""
            SELECT o.id FROM ingestion.original_documents o
            WHERE NOT (EXISTS (SELECT 1 FROM pipeline.processed_images i WHERE i.document_id = o.id) OR EXISTS (SELECT 1 FROM pipeline.stage_failures f WHERE f.document_id = o.id AND f.stage LIKE '%image%'))
               OR NOT (EXISTS (SELECT 1 FROM pipeline.raw_texts t WHERE t.document_id = o.id) OR EXISTS (SELECT 1 FROM pipeline.stage_failures f WHERE f.document_id = o.id AND f.stage LIKE '%ocr%'))
            """);
        Assert.True(unprocessed.Count == 0, $"{unprocessed.Count} accepted documents neither processed nor failed with a reason: {totals}");
        Assert.True(memory.PeakGrowth < MemoryGrowthBound, $"working set grew by {memory.PeakGrowth / (1024 * 1024)} MiB");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkfifoNative(string path, uint mode);

    internal static void Mkfifo(string path)
    {
        if (MkfifoNative(path, 0x1A4) != 0) throw new IOException($"mkfifo failed: {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

/// <summary>Samples the test process's working set every 100 ms; <see cref="PeakGrowth"/> is the peak above the start.</summary>
internal sealed class MemoryWatch : IDisposable
{
    private readonly long _start = Current();
    private long _peak;
    private readonly Timer _timer;

    public MemoryWatch()
    {
        _peak = _start;
        _timer = new Timer(_ => { var now = Current(); if (now > Interlocked.Read(ref _peak)) Interlocked.Exchange(ref _peak, now); }, null, 0, 100);
    }

    public long PeakGrowth => Interlocked.Read(ref _peak) - _start;

    private static long Current() { using var p = Process.GetCurrentProcess(); return p.WorkingSet64; }

    public void Dispose() => _timer.Dispose();
}

/// <summary>The content kinds of the corpus through <c>POST /api/v1/predict</c>: a 200 or a 4xx ProblemDetails, never a 5xx.</summary>
[Collection(ApiCollection.Name)]
public sealed class BadInputPredictTests(ApiApp app)
{
    [Fact]
    public async Task EveryContentKindGetsAnAnswerWithAReasonAndNoServerError()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = await app.CreateClientWithRoleAsync(Dsdc.Auth.Roles.User);
        var failures = new List<string>();
        foreach (var kind in BadInputCorpusTests.Kinds.Where(k => k.Content is not null))
        {
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(kind.Content!());
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", kind.UploadName ?? kind.Folder + ".bin");
            var watch = Stopwatch.StartNew();
            using var response = await client.PostAsync("/api/v1/predict", form, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            var status = (int)response.StatusCode;
            var ok = kind.Expected.Contains(BadInputCorpusTests.Accepted) ? status is 200 or 422 : status is 413 or 415 or 422;
            if (!ok || watch.Elapsed > BadInputCorpusTests.PerDocumentLimit
                || (status != 200 && response.Content.Headers.ContentType?.MediaType != "application/problem+json"))
                failures.Add($"{kind.Folder}: {status} in {watch.Elapsed.TotalSeconds:F1} s {body[..Math.Min(body.Length, 300)]}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // Upload names are data: a traversal-looking name created nothing outside the data folder.
        Assert.False(File.Exists(Path.Combine(app.DataDir, "..", "etc", "passwd.png")));
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE original_name LIKE '%/%'"));
    }
}

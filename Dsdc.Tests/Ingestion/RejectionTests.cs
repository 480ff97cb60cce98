using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Ingestion;

/// <summary>Every refusal: the folder lands in rejected/ whole, with a reason.txt and a database record.</summary>
public sealed class RejectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

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

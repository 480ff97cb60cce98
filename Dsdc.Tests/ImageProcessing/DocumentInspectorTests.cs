using Dsdc.ImageProcessing;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.ImageProcessing;

public sealed class DocumentInspectorTests : IDisposable
{
    private readonly TestDocuments _docs = new();
    private readonly ImagingServices _services = new();

    private IDocumentInspector Inspector => _services.Inspector;

    [Fact]
    public void AG4FaxTiffIsOnePageAtItsFullSize()
    {
        var info = Inspector.Inspect(TestDocuments.G4Paper);

        Assert.Equal(new DocumentInfo(DocumentFormat.Tiff, "image/tiff", ".tif", 1, 1728, 2292), info);
    }

    [Fact]
    public void EveryImageInTheSharedDatasetsIsAccepted()
    {
        var images = Datasets.WithExtension(".tif", ".tiff", ".png", ".jpg", ".jpeg");
        Assert.True(images.Count > 100, $"only {images.Count} dataset images under {Datasets.Root}");

        foreach (var path in images)
        {
            var info = Inspector.Inspect(path);
            Assert.True(info.PageCount >= 1 && info.Width > 0 && info.Height > 0, path);
            Assert.Equal(Path.GetExtension(path).ToLowerInvariant() switch
            {
                ".png" => DocumentFormat.Png,
                ".jpg" or ".jpeg" => DocumentFormat.Jpeg,
                _ => DocumentFormat.Tiff,
            }, info.Format);
        }
    }

    [Fact]
    public void ABornDigitalPdfReportsItsPagesAndItsSizeAtTheRenderResolution()
    {
        var letter = Inspector.Inspect(TestDocuments.TextPdf);
        var twoPages = Inspector.Inspect(TestDocuments.TwoPageTextPdf);

        // US Letter, 612x792 points, at the default 150 dpi.
        Assert.Equal(new DocumentInfo(DocumentFormat.Pdf, "application/pdf", ".pdf", 1, 1275, 1650), letter);
        Assert.Equal(2, twoPages.PageCount);
    }

    [Fact]
    public void AMultiPageTiffCountsEveryPage()
    {
        var tiff = _docs.MultiPageTiff("three.tif", TestDocuments.G4Paper, TestDocuments.GreyPng, TestDocuments.G4Paper);

        var info = Inspector.Inspect(tiff);

        Assert.Equal((DocumentFormat.Tiff, 3, 1728, 2292), (info.Format, info.PageCount, info.Width, info.Height));
    }

    [Fact]
    public void AnImageOnlyPdfAndABmpAreAccepted()
    {
        var pdf = _docs.ImageOnlyPdf("scan.pdf", TestDocuments.G4Paper);
        var bmp = _docs.Reencode("page.bmp", TestDocuments.GreyPng, 1);

        Assert.Equal((DocumentFormat.Pdf, 1), (Inspector.Inspect(pdf).Format, Inspector.Inspect(pdf).PageCount));
        Assert.Equal(new DocumentInfo(DocumentFormat.Bmp, "image/bmp", ".bmp", 1, 754, 1000), Inspector.Inspect(bmp));
    }

    [Fact]
    public void AZeroByteFileIsRefusedAsEmpty() =>
        AssertRefused(Refusal.EmptyFile, _docs.Write("empty.tif", []));

    [Fact]
    public void ATextFileNamedTifIsAnUnsupportedFormat() =>
        AssertRefused(Refusal.UnsupportedFormat, _docs.Write("notes.tif", "Dear sir, this is not an image."u8));

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.05)]
    public void ATruncatedTiffIsCorrupt(double keep) =>
        AssertRefused(Refusal.Corrupt, _docs.Truncated("cut.tif", _docs.MultiPageTiff("full.tif", TestDocuments.GreyPng), keep));

    [Fact]
    public void ATruncatedPngIsCorrupt() =>
        AssertRefused(Refusal.Corrupt, _docs.Truncated("cut.png", TestDocuments.GreyPng, 0.5));

    [Fact]
    public void ATiffWhoseSecondPageIsCutOffIsCorrupt()
    {
        var tiff = _docs.MultiPageTiff("two.tif", TestDocuments.GreyPng, TestDocuments.GreyPng);

        AssertRefused(Refusal.Corrupt, _docs.Truncated("cut.tif", tiff, 0.75));
    }

    [Fact]
    public void APngDeclaringTenBillionPixelsIsRefusedBeforeDecoding()
    {
        var message = AssertRefused(Refusal.TooManyPixels, _docs.PngDeclaring("bomb.png", 100_000, 100_000));

        Assert.Contains("100000x100000", message);
        Assert.Contains("Imaging:MaxPixelsPerPage", message);
    }

    [Fact]
    public void AFileOverTheSizeLimitIsTooLarge()
    {
        using var services = new ImagingServices(new Dictionary<string, string?> { ["Imaging:MaxFileBytes"] = "1000" });

        var error = Assert.Throws<InvalidDocumentException>(() => services.Inspector.Inspect(TestDocuments.GreyPng));

        Assert.Equal(Refusal.TooLarge, error.ReasonCode);
    }

    [Fact]
    public void DocumentsOverThePageLimitAreRefused()
    {
        using var services = new ImagingServices(new Dictionary<string, string?> { ["Imaging:MaxPages"] = "1" });
        var tiff = _docs.MultiPageTiff("two.tif", TestDocuments.GreyPng, TestDocuments.GreyPng);

        Assert.Equal(Refusal.TooManyPages, Assert.Throws<InvalidDocumentException>(() => services.Inspector.Inspect(tiff)).ReasonCode);
        Assert.Equal(Refusal.TooManyPages,
            Assert.Throws<InvalidDocumentException>(() => services.Inspector.Inspect(TestDocuments.TwoPageTextPdf)).ReasonCode);
    }

    [Fact]
    public void APasswordProtectedPdfIsRefusedAsEncrypted()
    {
        var locked = _docs.PathOf("locked.pdf");
        TestDocuments.Mutool("clean", "-E", "aes-256", "-U", "user-secret", "-O", "owner-secret", TestDocuments.TextPdf, locked);

        AssertRefused(Refusal.Encrypted, locked);
    }

    [Fact]
    public void APdfEncryptedOnlyAgainstEditingOpensWithoutAPasswordAndIsAccepted()
    {
        var restricted = _docs.PathOf("restricted.pdf");
        TestDocuments.Mutool("clean", "-E", "aes-256", "-O", "owner-secret", "-P", "-4", TestDocuments.TextPdf, restricted);

        Assert.Equal(1, Inspector.Inspect(restricted).PageCount);
    }

    [Fact]
    public void ATruncatedPdfIsCorrupt() =>
        AssertRefused(Refusal.Corrupt, _docs.Write("cut.pdf", File.ReadAllBytes(TestDocuments.TextPdf).AsSpan(0, 400)));

    /// <summary>A page's size is the one mutool draws: its media box inherited from the page tree, cut to its crop box,
    /// turned by its rotation and scaled by its user unit. The pixel limit is checked against what will be drawn.</summary>
    [Fact]
    public void APdfPageIsMeasuredAsMutoolDrawsIt()
    {
        var path = _docs.Write("turned.pdf", OnePagePdf(
            pages: "/MediaBox [0 0 612 792]",
            page: "/CropBox [10 20 310 420] /Rotate 90 /UserUnit 2"));

        var info = Inspector.Inspect(path);
        using var rendered = _services.Get<PdfPageRenderer>().Render(path, [1], 150, PageColor.Grey, TestContext.Current.CancellationToken);
        using var page = rendered.Load(1);

        Assert.Equal((1, 1667, 1250), (info.PageCount, info.Width, info.Height)); // 400 x 300 points, times 2, at 150 dpi
        Assert.Equal((info.Width, info.Height), (page.Width, page.Height));
    }

    /// <summary>
    /// A 140 KB page whose content stream inflates to 54 MB of drawing operators. The in-process PDF parser this replaced
    /// took 42 s and 7.7 GB of the server's own memory to measure it (docs/reliability.md, bug 47). Measuring its pages
    /// now reads none of its content and allocates next to nothing in this process; reading its text runs in mutool's
    /// process, which is killed at the time limit and the PDF refused.
    /// </summary>
    [Fact]
    public void APdfWhoseDrawingInflatesToGigabytesCostsTheServerNothing()
    {
        var path = _docs.Write("dense.pdf", PdfReadingBenchmarkCommand.DrawingBombPdf(2_000_000));
        using var hurried = new ImagingServices(new Dictionary<string, string?> { ["Imaging:PdfRenderTimeoutSecondsPerPage"] = "1" });

        // Within one second (reading its text takes mutool 7 s), and next to nothing allocated by this thread (an
        // in-process parser runs here).
        var before = GC.GetAllocatedBytesForCurrentThread();
        var info = hurried.Inspector.Inspect(path);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal((1, 1275, 1650), (info.PageCount, info.Width, info.Height));
        Assert.True(allocated < 8 * 1024 * 1024, $"{allocated:N0} bytes allocated to measure the page"); // the file itself is read once: 140 KB
        var refused = Assert.Throws<InvalidDocumentException>(() => hurried.Get<PdfPages>().Texts(path, 1, TestContext.Current.CancellationToken));
        Assert.Equal(Refusal.Corrupt, refused.ReasonCode);
        Assert.Contains("within 1 s", refused.Message);
    }

    /// <summary>mutool's memory is capped (its address space): reading the same page's text takes it about 1 GB, and
    /// drawing a 65-inch page in colour 290 MB, so under a 256 MB cap both PDFs are refused as too large (MuPDF says
    /// realloc for the one, malloc for the other), naming the setting; the same cap still reads an ordinary PDF.</summary>
    [Fact]
    public void APdfThatNeedsMoreThanMutoolsMemoryLimitIsRefusedAsTooLarge()
    {
        var path = _docs.Write("dense.pdf", PdfReadingBenchmarkCommand.DrawingBombPdf(2_000_000));
        using var capped = new ImagingServices(new Dictionary<string, string?> { ["Imaging:MutoolMemoryMegabytes"] = "256" });
        var pdf = capped.Get<PdfPages>();

        var refused = Assert.Throws<InvalidDocumentException>(() => pdf.Texts(path, 1, TestContext.Current.CancellationToken));

        Assert.Equal(Refusal.TooLarge, refused.ReasonCode);
        Assert.Contains("Imaging:MutoolMemoryMegabytes", refused.Message);
        var poster = _docs.Write("poster.pdf", OnePagePdf(pages: "", page: "/MediaBox [0 0 4700 4700]"));
        var tooLarge = Assert.Throws<InvalidDocumentException>(() =>
            capped.Get<PdfPageRenderer>().Render(poster, [1], 150, PageColor.Rgb, TestContext.Current.CancellationToken));
        Assert.Equal(Refusal.TooLarge, tooLarge.ReasonCode);
        Assert.Equal(2, pdf.Texts(TestDocuments.TwoPageTextPdf, 2, TestContext.Current.CancellationToken).Pages.Count(t => t.Length > 100));
    }

    /// <summary>mutool chooses a document's type by its name; a PDF named as an image (an upload, an inbox file) is still
    /// read, drawn and measured as a PDF. A text layer is read up to its limit, and a cut one still counts as whole.</summary>
    [Fact]
    public void APdfNamedAsAnImageIsReadAsAPdf()
    {
        var path = _docs.Write("scan.png", File.ReadAllBytes(TestDocuments.TwoPageTextPdf));
        var pdf = _services.Get<PdfPages>();

        var info = Inspector.Inspect(path);
        var (texts, cut) = pdf.Texts(path, info.PageCount, TestContext.Current.CancellationToken);
        using var rendered = _services.Get<PdfPageRenderer>().Render(path, [2], 72, PageColor.Grey, TestContext.Current.CancellationToken);
        using var page = rendered.Load(2);

        Assert.Equal((DocumentFormat.Pdf, 2), (info.Format, info.PageCount));
        Assert.False(cut);
        Assert.All(texts, t => Assert.Matches("[A-Za-z]{4,}", t));
        Assert.True(page.Width > 0);
    }

    /// <summary>Each page's text is its own: a page without text (a scan between typed pages) stays empty, and the pages
    /// after it keep theirs.</summary>
    [Fact]
    public void EachPagesTextStaysWithItsPage()
    {
        var path = _docs.Write("three.pdf", ThreePagePdf("First page words", null, "Third page words"));

        var (texts, cut) = _services.Get<PdfPages>().Texts(path, 3, TestContext.Current.CancellationToken);

        Assert.False(cut);
        Assert.Equal(["First page words", "", "Third page words"], texts);
    }

    /// <summary>Three letter pages, each with a line of Helvetica text or none.</summary>
    private static byte[] ThreePagePdf(params string?[] lines)
    {
        var objects = new List<string> { "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Count 3 /Kids [3 0 R 5 0 R 7 0 R] >>" };
        foreach (var line in lines)
        {
            var content = line is null ? "" : $"BT /F1 12 Tf 72 720 Td ({line}) Tj ET";
            objects.Add($"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {objects.Count + 2} 0 R " +
                "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>");
            objects.Add($"<< /Length {content.Length} >>\nstream\n{content}\nendstream");
        }
        return TestDocuments.HandWrittenPdf(objects);
    }

    [Fact]
    public void AnEnormousTextLayerIsReadUpToItsLimit()
    {
        var path = _docs.Write("dense.pdf", PdfReadingBenchmarkCommand.DrawingBombPdf(2_000_000)); // 8.7 million characters as text

        var (texts, cut) = _services.Get<PdfPages>().Texts(path, 1, TestContext.Current.CancellationToken);

        Assert.True(cut);
        Assert.InRange(Assert.Single(texts).Length, PdfPages.MaxTextCharacters / 2, PdfPages.MaxTextCharacters);
    }

    /// <summary>A hand-written PDF of one page, its page tree and page given extra keys.</summary>
    private static byte[] OnePagePdf(string pages, string page) => TestDocuments.HandWrittenPdf(
    [
        "<< /Type /Catalog /Pages 2 0 R >>",
        $"<< /Type /Pages /Count 1 /Kids [3 0 R] {pages} >>",
        $"<< /Type /Page /Parent 2 0 R {page} >>",
    ]);

    private string AssertRefused(string reasonCode, string path)
    {
        var error = Assert.Throws<InvalidDocumentException>(() => Inspector.Inspect(path));
        Assert.Equal(reasonCode, error.ReasonCode);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        return error.Message;
    }

    public void Dispose()
    {
        _services.Dispose();
        _docs.Dispose();
    }
}

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

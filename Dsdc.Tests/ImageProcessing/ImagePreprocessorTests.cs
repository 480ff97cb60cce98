using System.Buffers.Binary;
using Dsdc.ImageProcessing;

namespace Dsdc.Tests.ImageProcessing;

public sealed class ImagePreprocessorTests : IDisposable
{
    private const int Size = 224;
    private readonly TestDocuments _docs = new();
    private readonly ImagingServices _services = new();

    private IImagePreprocessor Preprocessor => _services.Preprocessor;

    public static TheoryData<string> Kinds =>
        ["g4-tiff", "grey-png", "grey-jpeg", "palette-png", "rgb-png", "bmp", "multi-page-tiff", "text-pdf", "image-pdf"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryKindOfPageBecomesA224x224RgbPng(string kind)
    {
        var (source, format) = Source(kind);
        var output = Path.Combine(_docs.Folder, "out", "a", "b", kind + ".png");

        var result = Preprocessor.Process(source, format, output);

        Assert.Equal(new ProcessedImage(Size, Size), result);
        var png = File.ReadAllBytes(output);
        Assert.Equal((Size, Size), (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));
        Assert.Equal((8, 2), ((int)png[24], (int)png[25])); // 8 bits per sample, colour type 2 = RGB (no alpha, no palette)
        var rgb = Preprocessor.ReadProcessed(output);
        Assert.Equal(Size * Size * 3, rgb.Length);
        // A page of print: mostly paper, some ink (area averaging greys thin strokes at 224 pixels).
        Assert.InRange(rgb.Average(b => (double)b), 120, 254);
        Assert.InRange(rgb.Min(), 0, 200);
    }

    [Fact]
    public void ATransparentPdfPageIsRenderedOnWhite()
    {
        var output = _docs.PathOf("invoice.png");
        Preprocessor.Process(TestDocuments.TextPdf, DocumentFormat.Pdf, output);

        var rgb = Preprocessor.ReadProcessed(output);

        Assert.Equal([255, 255, 255], rgb[..3]); // top-left corner: the page margin
    }

    [Fact]
    public void GreyInputGivesEqualChannelsAndTheSameImageEveryTime()
    {
        var first = _docs.PathOf("1.png");
        var second = _docs.PathOf("2.png");

        Preprocessor.Process(TestDocuments.GreyPng, DocumentFormat.Png, first);
        Preprocessor.Process(TestDocuments.GreyPng, DocumentFormat.Png, second);

        var rgb = Preprocessor.ReadProcessed(first);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.All(Enumerable.Range(0, Size * Size), i => Assert.True(rgb[3 * i] == rgb[3 * i + 1] && rgb[3 * i] == rgb[3 * i + 2]));
    }

    [Fact]
    public void AnExistingOutputIsReplacedAndNoTemporaryFileIsLeft()
    {
        var output = _docs.PathOf("page.png");
        File.WriteAllText(output, "stale");

        Preprocessor.Process(TestDocuments.G4Paper, DocumentFormat.Tiff, output);

        Assert.Equal(Size * Size * 3, Preprocessor.ReadProcessed(output).Length);
        Assert.Equal(["page.png"], Directory.GetFiles(_docs.Folder).Select(Path.GetFileName));
    }

    [Fact]
    public void ACorruptFileIsRefusedAndWritesNothing()
    {
        var cut = _docs.Truncated("cut.png", TestDocuments.GreyPng, 0.3);
        var output = _docs.PathOf("out.png");

        var error = Assert.Throws<InvalidDocumentException>(() => Preprocessor.Process(cut, DocumentFormat.Png, output));

        Assert.Equal(Refusal.Corrupt, error.ReasonCode);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void TheVersionNamesTheResamplerAndThePdfResolution()
    {
        Assert.Contains("areamap", Preprocessor.Processor);
        Assert.Matches(@"leptonica-1\.\d+", Preprocessor.Version);
        Assert.Contains("150dpi", Preprocessor.Version);
    }

    private (string Path, DocumentFormat Format) Source(string kind) => kind switch
    {
        "g4-tiff" => (TestDocuments.G4Paper, DocumentFormat.Tiff),
        "grey-png" => (TestDocuments.GreyPng, DocumentFormat.Png),
        "grey-jpeg" => (TestDocuments.JpegMemo, DocumentFormat.Jpeg),
        "palette-png" => (_docs.Reencode("palette.png", TestDocuments.G4Paper, 3, TestDocuments.ToPalette), DocumentFormat.Png),
        "rgb-png" => (_docs.Reencode("rgb.png", TestDocuments.GreyPng, 3, TestDocuments.ToRgb), DocumentFormat.Png),
        "bmp" => (_docs.Reencode("page.bmp", TestDocuments.GreyPng, 1), DocumentFormat.Bmp),
        "multi-page-tiff" => (_docs.MultiPageTiff("pages.tif", TestDocuments.GreyPng, TestDocuments.G4Paper), DocumentFormat.Tiff),
        "text-pdf" => (TestDocuments.TextPdf, DocumentFormat.Pdf),
        "image-pdf" => (_docs.ImageOnlyPdf("scan.pdf", TestDocuments.G4Paper), DocumentFormat.Pdf),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public void Dispose()
    {
        _services.Dispose();
        _docs.Dispose();
    }
}

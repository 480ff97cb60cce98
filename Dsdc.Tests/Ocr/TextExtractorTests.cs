using Dsdc.ImageProcessing;
using Dsdc.Ocr;
using Dsdc.Tests.ImageProcessing;

namespace Dsdc.Tests.Ocr;

public sealed class TextExtractorTests : IDisposable
{
    private readonly TestDocuments _docs = new();
    private readonly ImagingServices _services = new(new Dictionary<string, string?> { ["Ocr:MaxConcurrency"] = "2" });

    private ITextExtractor Extractor => _services.TextExtractor;

    [Fact]
    public async Task OcrReadsTheTitleOfARealG4FaxPage()
    {
        var result = await Extractor.ExtractAsync(TestDocuments.G4Paper, DocumentFormat.Tiff, TestContext.Current.CancellationToken);

        Assert.Contains("Structural proteins", result.Text);
        Assert.Contains("coronavirus", result.Text);
        Assert.Equal(("ocr", "tesseract"), (result.Method, result.Processor));
        Assert.Matches(@"^5\.\d+\.\d+;eng;psm=3$", result.ProcessorVersion);
        Assert.Equal(Extractor.ProcessorVersion, result.ProcessorVersion);
        Assert.InRange(result.MeanConfidence!.Value, 50f, 100f);
    }

    /// <summary>
    /// A page Tesseract does not finish within <c>Ocr:PageTimeoutSeconds</c> is a problem of the document: a refusal with its
    /// reason (the API answers 422, the pipeline records it against the document), not an error of the server.
    /// </summary>
    [Fact]
    public void APageNotReadWithinItsDeadlineIsRefusedAsADocumentProblem()
    {
        var decoder = _services.Get<ImageDecoder>();
        using var page = decoder.DecodeFirstPage(decoder.ReadFile(TestDocuments.G4Paper), DocumentFormat.Tiff);
        var options = _services.Get<Microsoft.Extensions.Options.IOptions<OcrOptions>>().Value;
        using var engine = TesseractEngine.Create(options, pageTimeout: TimeSpan.FromMilliseconds(1));

        var refusal = Assert.Throws<InvalidDocumentException>(() => engine.Recognise(page, 0));

        Assert.Equal(Refusal.OcrFailed, refusal.ReasonCode);
        Assert.Contains("did not finish within 0.001 s (Ocr:PageTimeoutSeconds)", refusal.Message);
        using var patient = TesseractEngine.Create(options);
        Assert.Contains("coronavirus", patient.Recognise(page, 0).Text); // the same page within the configured deadline
    }

    [Fact]
    public async Task OcrReadsARealJpegMemo()
    {
        var result = await Extractor.ExtractAsync(TestDocuments.JpegMemo, DocumentFormat.Jpeg, TestContext.Current.CancellationToken);

        Assert.Contains("RECORDS TRANSFER NOTICE", result.Text);
    }

    [Fact]
    public async Task OcrReadsEveryPageOfAMultiPageTiff()
    {
        var tiff = _docs.MultiPageTiff("two.tif", TestDocuments.JpegMemo, TestDocuments.G4Paper);

        var result = await Extractor.ExtractAsync(tiff, DocumentFormat.Tiff, TestContext.Current.CancellationToken);

        var pages = result.Text.Split('\f');
        Assert.Equal(2, pages.Length);
        Assert.Contains("RECORDS TRANSFER NOTICE", pages[0]);
        Assert.Contains("coronavirus", pages[1]);
    }

    [Fact]
    public async Task ABornDigitalPdfGivesItsTextLayerWithoutOcr()
    {
        var result = await Extractor.ExtractAsync(TestDocuments.TwoPageTextPdf, DocumentFormat.Pdf, TestContext.Current.CancellationToken);

        Assert.Equal(("pdf-text-layer", "pdfpig", "0.1.16"), (result.Method, result.Processor, result.ProcessorVersion));
        Assert.Null(result.MeanConfidence);
        Assert.Equal(2, result.Text.Split('\f').Length);
        Assert.Matches("[A-Za-z]{4,}", result.Text);
    }

    [Fact]
    public async Task APdfWithoutATextLayerIsRenderedAndOcrdPageByPage()
    {
        var scan = _docs.ImageOnlyPdf("scan.pdf", TestDocuments.G4Paper);
        var memo = _docs.ImageOnlyPdf("memo.pdf", TestDocuments.JpegMemo, dpi: 300);
        var both = _docs.PathOf("both.pdf");
        TestDocuments.Mutool("merge", "-o", both, memo, scan);

        var result = await Extractor.ExtractAsync(both, DocumentFormat.Pdf, TestContext.Current.CancellationToken);

        Assert.Equal("ocr", result.Method);
        var pages = result.Text.Split('\f');
        Assert.Equal(2, pages.Length);
        Assert.Contains("RECORDS TRANSFER NOTICE", pages[0]);
        Assert.Contains("coronavirus", pages[1]);
    }

    [Fact]
    public async Task ACorruptTiffIsRefusedAsCorrupt()
    {
        var tiff = _docs.MultiPageTiff("page.tif", TestDocuments.GreyPng);
        var cut = _docs.Truncated("cut.tif", tiff, 0.5);

        var error = await Assert.ThrowsAsync<InvalidDocumentException>(() =>
            Extractor.ExtractAsync(cut, DocumentFormat.Tiff, TestContext.Current.CancellationToken));

        Assert.Equal(Refusal.Corrupt, error.ReasonCode);
    }

    [Fact]
    public async Task ConcurrentOcrOnTwoEnginesGivesTheSameTextAsOneAtATime()
    {
        var ct = TestContext.Current.CancellationToken;
        var files = new[] { (TestDocuments.G4Paper, DocumentFormat.Tiff), (TestDocuments.GreyPng, DocumentFormat.Png) };
        var expected = new List<string>();
        foreach (var (path, format) in files)
            expected.Add((await Extractor.ExtractAsync(path, format, ct)).Text);

        // Six documents on a pool of two: engines are reused across threads, never shared by two at once.
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Task.Run(() => Extractor.ExtractAsync(files[i % 2].Item1, files[i % 2].Item2, ct), ct)));

        for (var i = 0; i < results.Length; i++)
            Assert.Equal(expected[i % 2], results[i].Text);
    }

    public void Dispose()
    {
        _services.Dispose();
        _docs.Dispose();
    }
}

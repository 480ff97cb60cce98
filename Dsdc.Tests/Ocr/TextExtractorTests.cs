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
        Assert.Matches(@"^5\.\d+\.\d+;eng;psm=3;readings=6\+11$", result.ProcessorVersion);
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

    /// <summary>
    /// Tesseract's deadline reaches its recognition, not its layout analysis: on graph paper with marks on it a page takes
    /// it seconds to minutes whatever the deadline. Such a page is given up at twice the deadline: the document is refused
    /// at once as a document problem and the only engine slot serves the next document, while the given-up engine's thread
    /// runs on until Tesseract returns, then ends.
    /// </summary>
    [Fact]
    public async Task APageWhoseLayoutAnalysisOutrunsTheDeadlineIsGivenUpAtTwiceTheDeadline()
    {
        var ct = TestContext.Current.CancellationToken;
        var page = _docs.Write("graph-paper.png", Dsdc.Tests.Infrastructure.Fixtures.PngRuledPageWithSpecks(2550, 3300, 40, 40_000));
        using var hurried = new ImagingServices(new Dictionary<string, string?> { ["Ocr:PageTimeoutSeconds"] = "1", ["Ocr:MaxConcurrency"] = "1" });
        var (givenUp, runningOn) = (OcrMetrics.PagesGivenUp.Value, OcrMetrics.EnginesRunningOn.Value);

        var started = System.Diagnostics.Stopwatch.StartNew();
        var refusal = await Assert.ThrowsAsync<InvalidDocumentException>(() => hurried.TextExtractor.ExtractAsync(page, DocumentFormat.Png, ct));
        var refusedAfter = started.Elapsed;

        Assert.Equal(Refusal.OcrFailed, refusal.ReasonCode);
        Assert.Equal("OCR of a page did not finish within twice its deadline of 1 s (Ocr:PageTimeoutSeconds): Tesseract's analysis " +
            "of the page's layout (its columns and blocks) takes too long on this page.", refusal.Message);
        // Reading the file and starting the engine come first; the page alone takes Tesseract 7-13 s here with a 1 s deadline.
        Assert.InRange(refusedAfter, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(6));
        Assert.Equal(givenUp + 1, OcrMetrics.PagesGivenUp.Value);
        // The slot is free: the next document (a blank page, read well within the deadline) is read on a new engine while
        // the given-up one runs on.
        var blank = _docs.Write("blank.png", Dsdc.Tests.Infrastructure.Fixtures.PngBlankPage());
        var next = await hurried.TextExtractor.ExtractAsync(blank, DocumentFormat.Png, ct).WaitAsync(TimeSpan.FromSeconds(5), ct);
        Assert.Equal(("ocr", ""), (next.Method, next.Text.Trim()));
        Assert.Equal(runningOn + 1, OcrMetrics.EnginesRunningOn.Value); // still in the page's layout analysis
        // Once Tesseract returns, the given-up engine's thread ends.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (OcrMetrics.EnginesRunningOn.Value > runningOn && waited.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(200, ct);
        Assert.Equal(runningOn, OcrMetrics.EnginesRunningOn.Value);
    }

    /// <summary>
    /// Work on a pooled engine that ends around the watch's turns (every 250 ms) returns its own result, and work that
    /// throws gives its own exception, a TimeoutException too: the watch's turns never reach the caller (a first version
    /// let its own time-out through when the work ended as it looked).
    /// </summary>
    [Fact]
    public async Task PooledWorkEndingAsTheWatchLooksGivesItsOwnOutcome()
    {
        var ct = TestContext.Current.CancellationToken;
        var pool = _services.Get<TesseractEnginePool>();

        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => pool.RunAsync(_ => { Thread.Sleep(235 + 2 * i); return i; }, ct)));
        var thrown = await Assert.ThrowsAsync<TimeoutException>(
            () => pool.RunAsync<int>(_ => { Thread.Sleep(250); throw new TimeoutException("the work's own"); }, ct).WaitAsync(TimeSpan.FromSeconds(30), ct));

        Assert.Equal(Enumerable.Range(0, 24), results);
        Assert.Equal("the work's own", thrown.Message);
    }

    /// <summary>An extra reading in another page segmentation mode leaves the pooled engine in its own mode.</summary>
    [Fact]
    public void AReadingInAnotherModeLeavesTheEngineInItsOwnMode()
    {
        var decoder = _services.Get<ImageDecoder>();
        using var page = decoder.DecodeFirstPage(decoder.ReadFile(TestDocuments.G4Paper), DocumentFormat.Tiff);
        using var engine = TesseractEngine.Create(_services.Get<Microsoft.Extensions.Options.IOptions<OcrOptions>>().Value);

        var before = engine.Recognise(page, 0);
        var sparse = engine.Recognise(page, 0, 11);
        var after = engine.Recognise(page, 0);

        Assert.Contains("coronavirus", sparse);
        Assert.NotEqual(before.Text, sparse);
        Assert.Equal(before, after);
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

    /// <summary>
    /// A document OCR cannot finish within <c>Ocr:DocumentTimeoutSeconds</c>, every page and reading together, fails as a
    /// document problem (reason ocr-failed), as a page past its own deadline does: hundreds of slow pages do not hold a
    /// worker for hours. The deadline is checked before each reading but the first: here it has passed before the first
    /// page's second reading.
    /// </summary>
    [Fact]
    public async Task ADocumentNotReadWithinItsDeadlineIsRefusedAsADocumentProblem()
    {
        var tiff = _docs.MultiPageTiff("two.tif", TestDocuments.JpegMemo, TestDocuments.G4Paper);
        using var hurried = new ImagingServices(new Dictionary<string, string?> { ["Ocr:DocumentTimeoutSeconds"] = "0.001" });

        var refusal = await Assert.ThrowsAsync<InvalidDocumentException>(
            () => hurried.TextExtractor.ExtractAsync(tiff, DocumentFormat.Tiff, TestContext.Current.CancellationToken));

        Assert.Equal(Refusal.OcrFailed, refusal.ReasonCode);
        Assert.Equal("OCR of the document did not finish within 0.001 s (Ocr:DocumentTimeoutSeconds); it was on page 1.", refusal.Message);
        using var unbounded = new ImagingServices(new Dictionary<string, string?> { ["Ocr:DocumentTimeoutSeconds"] = "0" });
        Assert.Equal(2, (await unbounded.TextExtractor.ExtractAsync(tiff, DocumentFormat.Tiff, TestContext.Current.CancellationToken)).Text.Split('\f').Length);
    }

    /// <summary>
    /// The document deadline counts the document's own work, not the time it waits for an engine while other documents
    /// hold them all (a long PDF gives its engine back after every few pages, and under a backlog would otherwise fail
    /// for the others' load).
    /// </summary>
    [Fact]
    public async Task TimeSpentWaitingForAnEngineOtherDocumentsHoldIsNotCountedAgainstTheDocument()
    {
        var ct = TestContext.Current.CancellationToken;
        using var one = new ImagingServices(new Dictionary<string, string?> { ["Ocr:MaxConcurrency"] = "1", ["Ocr:DocumentTimeoutSeconds"] = "1.5" });
        var page = Path.Combine(Path.GetTempPath(), $"dsdc-wait-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(page, Dsdc.Tests.Infrastructure.Fixtures.PngBlankPage(), ct);
        try
        {
            var pool = one.Get<TesseractEnginePool>();
            var holding = new TaskCompletionSource();
            // Another document holds the only engine for three seconds, twice the deadline.
            var other = pool.RunAsync(_ => { holding.SetResult(); Thread.Sleep(3000); return 0; }, ct);
            await holding.Task;

            var watch = System.Diagnostics.Stopwatch.StartNew();
            var result = await one.TextExtractor.ExtractAsync(page, DocumentFormat.Png, ct);

            Assert.True(watch.Elapsed.TotalSeconds > 1.5, $"the extraction waited {watch.Elapsed.TotalSeconds:F1} s"); // it did wait past it
            Assert.Equal(ExtractionMethods.Ocr, result.Method);
            await other;
        }
        finally
        {
            File.Delete(page);
        }
    }

    [Fact]
    public async Task ABornDigitalPdfGivesItsTextLayerWithoutOcr()
    {
        var result = await Extractor.ExtractAsync(TestDocuments.TwoPageTextPdf, DocumentFormat.Pdf, TestContext.Current.CancellationToken);

        Assert.Equal(("pdf-text-layer", "mutool"), (result.Method, result.Processor));
        Assert.Matches(@"^\d+\.\d+", result.ProcessorVersion);
        Assert.Null(result.MeanConfidence);
        Assert.Equal(2, result.Text.Split('\f').Length);
        Assert.Matches("[A-Za-z]{4,}", result.Text);
    }

    /// <summary>
    /// A text layer whose font maps a glyph to U+0000: PostgreSQL's text cannot hold it, so the document would never get
    /// its text stored, nor a vector, nor a prediction. mutool 1.21 writes U+FFFD for it; a reader that passes the NUL
    /// through has it dropped (TextInput.ForDatabase).
    /// </summary>
    [Fact]
    public async Task ATextLayerMappingAGlyphToNulGivesTextPostgreSqlCanStore()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("dsdc-nul-pdf-").FullName, "nul.pdf");
        try
        {
            await File.WriteAllBytesAsync(path, NulGlyphPdf(), TestContext.Current.CancellationToken);

            var result = await Extractor.ExtractAsync(path, DocumentFormat.Pdf, TestContext.Current.CancellationToken);

            Assert.Equal("pdf-text-layer", result.Method);
            Assert.DoesNotContain('\0', result.Text);
            Assert.Contains("Invoice", result.Text);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    /// <summary>One page reading "Invoice" then a glyph, in a composite font whose ToUnicode map sends that glyph to U+0000.</summary>
    private static byte[] NulGlyphPdf()
    {
        const string cmap = """
            /CIDInit /ProcSet findresource begin 12 dict begin begincmap
            /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
            /CMapName /Adobe-Identity-UCS def /CMapType 2 def
            1 begincodespacerange <0000> <FFFF> endcodespacerange
            1 beginbfchar <0080> <0000> endbfchar
            1 beginbfrange <0020> <007E> <0020> endbfrange
            endcmap CMapName currentdict /CMap defineresource pop end end
            """;
        var glyphs = string.Concat("Invoice \u0080".Select(c => ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)));
        var content = $"BT /F1 24 Tf 20 40 Td <{glyphs}> Tj ET";
        return TestDocuments.HandWrittenPdf(
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            $"<< /Length {content.Length} >>\nstream\n{content}\nendstream",
            "<< /Type /Font /Subtype /Type0 /BaseFont /Arial /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 6 0 R >>",
            $"<< /Length {cmap.Length} >>\nstream\n{cmap}\nendstream",
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Arial /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> " +
            "/FontDescriptor 8 0 R /DW 500 /CIDToGIDMap /Identity >>",
            "<< /Type /FontDescriptor /FontName /Arial /Flags 32 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 900 /Descent -200 " +
            "/CapHeight 700 /StemV 80 >>",
        ]);
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
        var readings = result.Readings!.Split('\f');
        Assert.Equal(4, readings.Length);
        Assert.Contains("coronavirus", readings[1]);
        Assert.Contains("coronavirus", readings[3]);
    }

    /// <summary>
    /// Every OCR'd page is read again in each of <c>Ocr:ExtraReadings</c>' modes (default 6 and 11): the readings follow one
    /// another, each with the document's pages separated by form feeds, and the main text is the one reading the
    /// configured mode gives alone. Without extra readings there are none, and the version says which readings were made.
    /// </summary>
    [Fact]
    public async Task EveryPageIsReadAgainInEachExtraModeBesideTheMainText()
    {
        var ct = TestContext.Current.CancellationToken;
        var tiff = _docs.MultiPageTiff("two.tif", TestDocuments.JpegMemo, TestDocuments.G4Paper);
        using var one = new ImagingServices(new Dictionary<string, string?> { ["Ocr:MaxConcurrency"] = "1", ["Ocr:ExtraReadings"] = "" });
        using var block = new ImagingServices(new Dictionary<string, string?> { ["Ocr:MaxConcurrency"] = "1", ["Ocr:ExtraReadings"] = "6" });

        var result = await Extractor.ExtractAsync(tiff, DocumentFormat.Tiff, ct);
        var alone = await one.TextExtractor.ExtractAsync(tiff, DocumentFormat.Tiff, ct);
        var blockOnly = await block.TextExtractor.ExtractAsync(tiff, DocumentFormat.Tiff, ct);

        Assert.Equal(alone.Text, result.Text);
        Assert.Equal(alone.MeanConfidence, result.MeanConfidence);
        Assert.Null(alone.Readings);
        Assert.Matches(@";psm=3$", alone.ProcessorVersion);
        Assert.Matches(@";psm=3;readings=6$", blockOnly.ProcessorVersion);
        var readings = result.Readings!.Split('\f');
        Assert.Equal(4, readings.Length); // mode 6: memo, paper; mode 11: memo, paper
        Assert.Equal(blockOnly.Readings, string.Join('\f', readings[..2]));
        Assert.Contains("RECORDS TRANSFER NOTICE", readings[0]);
        Assert.Contains("coronavirus", readings[1]);
        Assert.Contains("TRANSFER", readings[2]);
        Assert.Contains("coronavirus", readings[3]);
        // Each mode reads the page its own way: the same words, differently segmented.
        Assert.NotEqual(readings[1], readings[3]);
        Assert.NotEqual(alone.Text.Split('\f')[1], readings[1]);
    }

    [Fact]
    public async Task ABornDigitalPdfsTextLayerHasNoExtraReadings()
    {
        var result = await Extractor.ExtractAsync(TestDocuments.TwoPageTextPdf, DocumentFormat.Pdf, TestContext.Current.CancellationToken);

        Assert.Equal("pdf-text-layer", result.Method);
        Assert.Null(result.Readings);
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

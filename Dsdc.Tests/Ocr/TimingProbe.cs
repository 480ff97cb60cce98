using System.Diagnostics;
using Dsdc.ImageProcessing;
using Dsdc.Tests.ImageProcessing;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Ocr;

public sealed class TimingProbe
{
    [Fact]
    public async Task Measure()
    {
        var ct = TestContext.Current.CancellationToken;
        using var docs = new TestDocuments();
        using var s = new ImagingServices(new Dictionary<string, string?> { ["Ocr:MaxConcurrency"] = "1" });
        var ex = s.TextExtractor;
        var pre = s.Preprocessor;
        var renderer = s.Get<PdfPageRenderer>();
        var pages = Datasets.WithExtension(".tif", ".tiff", ".png").Take(24).ToList();
        var fmt = (string p) => p.EndsWith(".png") ? DocumentFormat.Png : DocumentFormat.Tiff;
        await ex.ExtractAsync(pages[0], fmt(pages[0]), ct);
        var sw = Stopwatch.StartNew();
        foreach (var p in pages) await ex.ExtractAsync(p, fmt(p), ct);
        var ocr = sw.Elapsed.TotalMilliseconds / pages.Count;
        sw.Restart();
        foreach (var p in pages) pre.Process(p, fmt(p), docs.PathOf("x.png"));
        var prep = sw.Elapsed.TotalMilliseconds / pages.Count;
        var jpgs = Datasets.WithExtension(".jpg");
        sw.Restart();
        foreach (var p in jpgs) pre.Process(p, DocumentFormat.Jpeg, docs.PathOf("x.png"));
        var prepJpg = sw.Elapsed.TotalMilliseconds / jpgs.Count;
        sw.Restart();
        foreach (var p in jpgs) await ex.ExtractAsync(p, DocumentFormat.Jpeg, ct);
        var ocrJpg = sw.Elapsed.TotalMilliseconds / jpgs.Count;
        var pdfs = Datasets.WithExtension(".pdf");
        sw.Restart();
        for (var i = 0; i < 3; i++) foreach (var p in pdfs) { using var r = renderer.Render(p, [1], 150, PageColor.Rgb, ct); }
        var r150 = sw.Elapsed.TotalMilliseconds / (3 * pdfs.Count);
        sw.Restart();
        for (var i = 0; i < 3; i++) foreach (var p in pdfs) { using var r = renderer.Render(p, [1], 300, PageColor.Grey, ct); }
        var r300 = sw.Elapsed.TotalMilliseconds / (3 * pdfs.Count);
        sw.Restart();
        foreach (var p in pdfs) pre.Process(p, DocumentFormat.Pdf, docs.PathOf("x.png"));
        var prepPdf = sw.Elapsed.TotalMilliseconds / pdfs.Count;
        var scan = docs.ImageOnlyPdf("scan.pdf", TestDocuments.G4Paper);
        await ex.ExtractAsync(scan, DocumentFormat.Pdf, ct);
        sw.Restart();
        for (var i = 0; i < 3; i++) await ex.ExtractAsync(scan, DocumentFormat.Pdf, ct);
        var ocrPdf = sw.Elapsed.TotalMilliseconds / 3;
        sw.Restart();
        for (var i = 0; i < 3; i++) await ex.ExtractAsync(TestDocuments.G4Paper, DocumentFormat.Tiff, ct);
        var ocrG4 = sw.Elapsed.TotalMilliseconds / 3;
        TestContext.Current.SendDiagnosticMessage($"TIMING ocr tif/png {ocr:0} ms/page ({pages.Count}); ocr jpg {ocrJpg:0} ({jpgs.Count}); ocr G4 1728x2292 {ocrG4:0}; ocr image-pdf {ocrPdf:0}; prep tif/png {prep:0.0}; prep jpg {prepJpg:0.0}; prep pdf {prepPdf:0.0}; mutool 150 rgb {r150:0}; mutool 300 grey {r300:0}");
        Assert.Fail($"TIMING ocr tif/png {ocr:0} ms/page ({pages.Count}); ocr jpg {ocrJpg:0} ({jpgs.Count}); ocr G4 1728x2292 {ocrG4:0}; ocr image-pdf {ocrPdf:0}; prep tif/png {prep:0.0}; prep jpg {prepJpg:0.0}; prep pdf {prepPdf:0.0}; mutool 150 rgb {r150:0}; mutool 300 grey {r300:0}");
    }
}

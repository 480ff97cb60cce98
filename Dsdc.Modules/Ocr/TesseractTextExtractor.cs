using System.Diagnostics;
using Dsdc.ImageProcessing;
using Dsdc.ImageProcessing.Native;
using Dsdc.Ocr.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Ocr;

/// <summary>
/// The text of every page: a born-digital PDF's own text layer when it has one, otherwise Tesseract on each page
/// (all TIFF pages, all PDF pages rendered by mutool). One pooled engine per document; its pages run in order on it.
/// Pages are joined with a form feed, as the tesseract CLI separates them.
/// </summary>
internal sealed partial class TesseractTextExtractor(
    TesseractEnginePool pool,
    ImageDecoder decoder,
    PdfPageRenderer renderer,
    PdfPages pdf,
    IOptions<OcrOptions> options,
    IOptions<ImagingOptions> imaging,
    ILogger<TesseractTextExtractor> logger) : ITextExtractor
{
    private const int RenderChunkPages = 8;

    // Read on first use, as the pool's: building this for the usage text must not validate the options (start an engine).
    private readonly Lazy<IReadOnlyList<int>> _extraModesOnce = new(() => options.Value.ExtraReadingModes);
    private OcrOptions Options => options.Value;
    private IReadOnlyList<int> ExtraModes => _extraModesOnce.Value;
    private readonly Lazy<string> _version = new(() =>
        $"{NativeRuntime.TesseractVersion()};{options.Value.Languages};psm={options.Value.PageSegmentationMode}" +
        (options.Value.MinimumDpi > 0 ? $";min-dpi={options.Value.MinimumDpi}" : "") +
        (options.Value.ExtraReadingModes is [_, ..] modes ? $";readings={string.Join('+', modes)}" : ""));

    public string Processor => "tesseract";

    /// <summary>Tesseract's version, languages and segmentation mode, e.g. <c>5.3.0;eng;psm=3</c>, the upscaling
    /// resolution when set (<c>;min-dpi=200</c>), since it changes the text, and the extra readings' modes
    /// (<c>;readings=6+11</c>).</summary>
    public string ProcessorVersion => _version.Value;

    public async Task<ExtractedText> ExtractAsync(string path, DocumentFormat format, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var deadline = new DocumentDeadline(Options.DocumentTimeoutSeconds);
        ExtractedText result;
        int pages;
        if (format == DocumentFormat.Pdf)
        {
            decoder.CheckFile(path); // mutool reads the file itself
            (result, pages) = await ExtractPdfAsync(path, deadline, ct);
        }
        else
        {
            var data = await Task.Run(() => decoder.ReadFile(path), ct);
            (result, pages) = await RunOnEngineAsync(deadline, engine => RecogniseRaster(engine, data, format, deadline, ct), ct);
        }
        LogExtracted(logger, pages, result.Method, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return result;
    }

    private (ExtractedText, int) RecogniseRaster(TesseractEngine engine, byte[] data, DocumentFormat format, DocumentDeadline deadline, CancellationToken ct)
    {
        var pages = new List<PageReading>();
        foreach (var page in decoder.DecodePages(data, format))
        {
            using (page)
            {
                ct.ThrowIfCancellationRequested();
                var (input, resolution, scaled) = OcrResolution.Prepare(page, Options.MinimumDpi, imaging.Value.MaxPixelsPerPage);
                using (scaled ? input : null)
                    pages.Add(Read(engine, input, resolution, deadline, pages.Count, ct));
            }
        }
        return (Combine(pages), pages.Count);
    }

    private async Task<(ExtractedText, int)> ExtractPdfAsync(string path, DocumentDeadline deadline, CancellationToken ct)
    {
        var layer = await Task.Run(() => PdfTextLayer.Read(pdf, path, ct), ct);
        if (layer.IsComplete)
            return (new ExtractedText(string.Join('\f', layer.PageTexts), ExtractionMethods.PdfTextLayer, "mutool", pdf.ToolVersion, null),
                layer.PageTexts.Count);

        var dpi = OcrDpi(layer.LargestPageSquareInches);
        var pages = new List<PageReading>();
        // A few pages at a time: 300 pages at 300 dpi would be 2.6 GB of rendered pixels on disk at once.
        foreach (var chunk in Enumerable.Range(1, layer.PageTexts.Count).Chunk(RenderChunkPages))
        {
            using var rendered = await Task.Run(() => renderer.Render(path, chunk, dpi, PageColor.Grey, ct), ct);
            pages.AddRange(await RunOnEngineAsync(deadline, engine => chunk.Select(number =>
            {
                ct.ThrowIfCancellationRequested();
                using var page = rendered.Load(number);
                return Read(engine, page, dpi, deadline, number - 1, ct);
            }).ToList(), ct));
        }
        return (Combine(pages), pages.Count);
    }

    /// <summary>On a pooled engine; the time spent waiting for one (other documents hold them all) is not this document's.</summary>
    private async Task<T> RunOnEngineAsync<T>(DocumentDeadline deadline, Func<TesseractEngine, T> work, CancellationToken ct)
    {
        deadline.Pause();
        try
        {
            return await pool.RunAsync(engine =>
            {
                deadline.Resume();
                return work(engine);
            }, ct);
        }
        finally
        {
            deadline.Resume(); // whether the engine came or not: the time after it is the document's again
        }
    }

    /// <summary>The configured OCR resolution, lowered where the largest page would pass the pixel limit.</summary>
    private int OcrDpi(double largestSquareInches)
    {
        var fitting = largestSquareInches > 0 ? (int)Math.Sqrt(imaging.Value.MaxPixelsPerPage / largestSquareInches) : int.MaxValue;
        return Math.Max(1, Math.Min(Options.PdfOcrDpi, fitting));
    }

    private sealed record PageReading(string Text, int Confidence, IReadOnlyList<string> Extra);

    /// <summary>The page in the main mode, then in each extra reading's mode. An extra reading Tesseract cannot finish
    /// (past the page's deadline, or refused) is left empty: the page's text came from the main reading, which alone can
    /// fail the document. The document fails when its deadline has passed before a reading that is not its first; a
    /// document whose last reading ends past it is kept.</summary>
    /// <param name="before">how many pages of the document were read before this one.</param>
    private PageReading Read(TesseractEngine engine, Pix page, int resolution, DocumentDeadline deadline, int before, CancellationToken ct)
    {
        if (before > 0) deadline.ThrowIfPassed(before);
        var (text, confidence) = engine.Recognise(page, resolution);
        var extra = new List<string>(ExtraModes.Count);
        foreach (var mode in ExtraModes)
        {
            ct.ThrowIfCancellationRequested();
            deadline.ThrowIfPassed(before);
            try
            {
                extra.Add(engine.Recognise(page, resolution, mode));
            }
            catch (InvalidDocumentException ex) when (ex.ReasonCode == Refusal.OcrFailed)
            {
                LogExtraReadingFailed(logger, mode, ex.Message);
                extra.Add("");
            }
        }
        return new PageReading(text, confidence, extra);
    }

    /// <summary>
    /// <see cref="OcrOptions.DocumentTimeoutSeconds"/> of the document's own extraction (0: none): reading its file,
    /// rendering PDF pages and reading them, but not the time spent waiting for an engine while other documents hold them
    /// all. A long PDF gives its engine back after each few pages; under a backlog it waits behind other documents that
    /// many times, and that wait is not the document's problem. Used by one extraction, one step at a time.
    /// </summary>
    internal sealed class DocumentDeadline(double seconds)
    {
        private long _spent;
        private long _since = Stopwatch.GetTimestamp();
        private bool _paused;

        /// <summary>The document's own time so far.</summary>
        public TimeSpan Spent => Stopwatch.GetElapsedTime(0, _spent + (_paused ? 0 : Stopwatch.GetTimestamp() - _since));

        /// <summary>Stops the clock (waiting for an engine).</summary>
        public void Pause()
        {
            if (_paused) return;
            _spent += Stopwatch.GetTimestamp() - _since;
            _paused = true;
        }

        /// <summary>Starts it again.</summary>
        public void Resume()
        {
            if (!_paused) return;
            _since = Stopwatch.GetTimestamp();
            _paused = false;
        }

        public void ThrowIfPassed(int pagesBefore)
        {
            if (seconds <= 0 || Spent.TotalSeconds < seconds) return;
            throw Refusal.Of(Refusal.OcrFailed,
                $"OCR of the document did not finish within {seconds:0.###} s ({OcrOptions.Section}:{nameof(OcrOptions.DocumentTimeoutSeconds)}); " +
                $"it was on page {pagesBefore + 1}.");
        }
    }

    /// <summary>Confidence is weighted by each page's amount of text, so a blank back page does not drag it to 0. The
    /// extra readings follow one another, each with its pages joined by form feeds.</summary>
    private ExtractedText Combine(IReadOnlyList<PageReading> pages)
    {
        var weights = pages.Select(p => p.Text.Count(c => !char.IsWhiteSpace(c))).ToList();
        var total = weights.Sum();
        var confidence = total == 0 ? 0f : (float)pages.Select((p, i) => (double)p.Confidence * weights[i]).Sum() / total;
        var readings = ExtraModes.Count == 0 ? null
            : string.Join('\f', Enumerable.Range(0, ExtraModes.Count).SelectMany(m => pages.Select(p => p.Extra[m])));
        return new ExtractedText(string.Join('\f', pages.Select(p => p.Text)), ExtractionMethods.Ocr, Processor, ProcessorVersion, confidence)
            { Readings = readings };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A page's extra reading in page segmentation mode {Mode} is left empty: {Reason}")]
    private static partial void LogExtraReadingFailed(ILogger logger, int mode, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Extracted the text of {PageCount} page(s) by {Method} in {ElapsedMs:0} ms")]
    private static partial void LogExtracted(ILogger logger, int pageCount, string method, double elapsedMs);
}

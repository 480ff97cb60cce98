using System.Runtime.InteropServices;
using Dsdc.ImageProcessing;
using Dsdc.ImageProcessing.Native;
using Dsdc.Ocr.Native;

namespace Dsdc.Ocr;

/// <summary>
/// One initialised Tesseract engine (~140 ms and ~20 MB per language to create). NOT thread-safe: two threads on one
/// engine crash the process (SIGSEGV/SIGFPE), which is why engines are only reached through <see cref="TesseractEnginePool"/>.
/// </summary>
internal sealed class TesseractEngine : IDisposable
{
    private readonly TesseractHandle _handle;

    private readonly TimeSpan _pageTimeout;

    private readonly int _mode;

    // Environment.TickCount64 when the page being read was given to Tesseract; 0 while the engine reads nothing.
    private long _pageStarted;

    private volatile bool _givenUp;

    private TesseractEngine(TesseractHandle handle, TimeSpan pageTimeout, int mode) => (_handle, _pageTimeout, _mode) = (handle, pageTimeout, mode);

    /// <summary>Whether the page being read has run past twice the page deadline at <paramref name="now"/>
    /// (<see cref="Environment.TickCount64"/>): Tesseract's deadline reaches only its recognition, not its layout analysis
    /// (finding columns and blocks), which takes minutes on some pages; the pool then gives the engine up.</summary>
    public bool IsOverdue(long now)
    {
        var started = Volatile.Read(ref _pageStarted);
        return started != 0 && now - started > 2 * _pageTimeout.TotalMilliseconds;
    }

    /// <summary>The page deadline; a page is given up at twice this (<see cref="IsOverdue"/>).</summary>
    public TimeSpan PageTimeout => _pageTimeout;

    /// <summary>Set by the pool when it gives the engine up: the page under way runs on (native code cannot be stopped),
    /// and every later page of the same work is refused at once, so the thread ends as soon as Tesseract returns.</summary>
    public bool GivenUp { get => _givenUp; set => _givenUp = value; }

    /// <param name="pageTimeout">the deadline per page; <see cref="OcrOptions.PageTimeoutSeconds"/> unless a test sets a shorter one.</param>
    public static TesseractEngine Create(OcrOptions options, TimeSpan? pageTimeout = null)
    {
        NativeRuntime.EnsureTesseractLoaded();
        var handle = TesseractApi.TessBaseAPICreate();
        if (handle.IsInvalid) throw new InvalidOperationException("TessBaseAPICreate failed");
        var dataPath = string.IsNullOrWhiteSpace(options.TessdataPath) ? null : options.TessdataPath;
        // Init3 succeeds when only some of "eng+xyz" load, so the loaded set is checked too.
        var failed = TesseractApi.TessBaseAPIInit3(handle, dataPath, options.Languages) != 0;
        List<string> missing = failed ? [options.Languages] : options.Languages.Split('+').Except(TesseractApi.LoadedLanguages(handle)).ToList();
        if (missing.Count > 0)
        {
            handle.Dispose();
            throw new OcrSetupException(
                $"Tesseract could not load language(s) '{string.Join('+', missing)}' of '{options.Languages}' from " +
                $"{dataPath ?? "its default tessdata folder"}: install the traineddata (Debian: tesseract-ocr-<lang>) or fix " +
                $"{OcrOptions.Section}:{nameof(OcrOptions.Languages)} / {OcrOptions.Section}:{nameof(OcrOptions.TessdataPath)}.");
        }
        // Tesseract's diagnostics ("Estimating resolution as ...") would go to stderr for every page.
        TesseractApi.TessBaseAPISetVariable(handle, "debug_file", "/dev/null");
        TesseractApi.TessBaseAPISetPageSegMode(handle, options.PageSegmentationMode);
        return new TesseractEngine(handle, pageTimeout ?? TimeSpan.FromSeconds(options.PageTimeoutSeconds), options.PageSegmentationMode);
    }

    /// <param name="resolution">the page's dots per inch; 0 when unknown (Tesseract then estimates it).</param>
    /// <exception cref="InvalidDocumentException">(<see cref="Refusal.OcrFailed"/>) the page was not read within the deadline, or
    /// Tesseract could not read it: a problem of the document, which the API answers with 422 and the pipeline records.</exception>
    public (string Text, int Confidence) Recognise(Pix page, int resolution) =>
        Run(page, resolution, () => (ReadText(TesseractApi.TessBaseAPIGetUTF8Text(_handle)), TesseractApi.TessBaseAPIMeanTextConf(_handle)));

    /// <summary>The page read in another page segmentation mode; the engine's own mode is back afterwards.</summary>
    public string Recognise(Pix page, int resolution, int segmentationMode)
    {
        TesseractApi.TessBaseAPISetPageSegMode(_handle, segmentationMode);
        try
        {
            return Run(page, resolution, () => ReadText(TesseractApi.TessBaseAPIGetUTF8Text(_handle)));
        }
        finally
        {
            TesseractApi.TessBaseAPISetPageSegMode(_handle, _mode);
        }
    }

    /// <summary>The page's words with their boxes, as Tesseract's TSV (level, page, block, paragraph, line, word, left,
    /// top, width, height, confidence, text; one row per element, the page's own size on its level-1 row).</summary>
    public string RecogniseTsv(Pix page, int resolution) => Run(page, resolution, () => ReadText(TesseractApi.TessBaseAPIGetTsvText(_handle, 0)));

    private T Run<T>(Pix page, int resolution, Func<T> read)
    {
        if (_givenUp)
            throw Refusal.Of(Refusal.OcrFailed, "OCR of the document was given up: a page ran past twice its deadline.");
        Volatile.Write(ref _pageStarted, Environment.TickCount64);
        try
        {
            TesseractApi.TessBaseAPISetImage2(_handle, page);
            if (resolution > 0) TesseractApi.TessBaseAPISetSourceResolution(_handle, resolution);
            // A deadline per page: a pathological page fails its document's OCR instead of holding a worker forever.
            var monitor = TesseractApi.TessMonitorCreate();
            var started = Environment.TickCount64;
            int status;
            try
            {
                TesseractApi.TessMonitorSetDeadlineMSecs(monitor, (int)Math.Min(int.MaxValue, _pageTimeout.TotalMilliseconds));
                status = TesseractApi.TessBaseAPIRecognize(_handle, monitor);
            }
            finally
            {
                TesseractApi.TessMonitorDelete(monitor);
            }
            if (status != 0)
                throw Refusal.Of(Refusal.OcrFailed, Environment.TickCount64 - started >= _pageTimeout.TotalMilliseconds
                    ? $"OCR of a page did not finish within {_pageTimeout.TotalSeconds:0.###} s ({OcrOptions.Section}:{nameof(OcrOptions.PageTimeoutSeconds)})."
                    : "Tesseract could not read a page of the document.");
            return read();
        }
        finally
        {
            // Drops the engine's reference to the page and its results, so the pooled engine holds no page memory.
            TesseractApi.TessBaseAPIClear(_handle);
            Volatile.Write(ref _pageStarted, 0);
        }
    }

    private static string ReadText(nint text)
    {
        try
        {
            return Marshal.PtrToStringUTF8(text) ?? "";
        }
        finally
        {
            TesseractApi.TessDeleteText(text);
        }
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>Tesseract itself is missing or misconfigured (not a problem with a document).</summary>
public sealed class OcrSetupException(string message) : Exception(message);

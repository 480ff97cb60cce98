using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;

namespace Dsdc.ImageProcessing;

/// <summary>A PDF page's size in points (1/72 inch) as <c>mutool draw</c> renders it: its crop box within its media box,
/// rotated, times its user unit.</summary>
public readonly record struct PdfPageSize(double Width, double Height)
{
    public double SquareInches => Width * Height / (72.0 * 72.0);

    /// <summary>Its size in pixels at <paramref name="dpi"/>, rounded up.</summary>
    public (long Width, long Height) Pixels(int dpi) => (ToPixels(Width, dpi), ToPixels(Height, dpi));

    private static long ToPixels(double points, int dpi) => (long)Math.Ceiling(Math.Abs(points) / 72.0 * dpi);
}

/// <summary>
/// What a PDF holds before any pixel is drawn: its pages and their sizes, and the text layer a born-digital PDF carries.
/// Both come from <c>mutool</c> in a process of its own (<see cref="MutoolProcess"/>), under the per-page time limit
/// rendering has, so a hostile PDF costs at most that time and none of the server's memory. Measuring the pages reads no
/// page's content; the text layer draws every page's text, not its images.
/// </summary>
public sealed class PdfPages(ImageDecoder limits, IOptions<ImagingOptions> options)
{
    /// <summary>The script <c>mutool run</c> measures the pages with, copied beside the application's assemblies.</summary>
    internal static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "mutool", "pdf-pages.js");

    private readonly ImagingOptions _options = options.Value;
    private readonly Lazy<string> _version = new(() => ReadVersion(options.Value));

    /// <summary>mutool's version (<c>1.21.1</c>), recorded with a text layer it read.</summary>
    public string ToolVersion => _version.Value;

    /// <summary>The most characters of a text layer read from one PDF (about 300 dense pages); the rest is left unread
    /// and the pages read stand for the whole, as a classifier needs no more. A page whose drawing inflates to millions
    /// of words would otherwise be read whole into the server's memory.</summary>
    public const int MaxTextCharacters = 1_000_000;

    /// <summary>Every page's size, in order. Refused: encrypted (a password is needed), corrupt (no page, or mutool
    /// cannot read it, or not within one page's time limit), too many pages (counted before any page is measured).</summary>
    public IReadOnlyList<PdfPageSize> Sizes(string path, CancellationToken ct)
    {
        var script = ScriptPath;
        if (!File.Exists(script))
            throw new PdfRendererSetupException($"The script that measures PDF pages is missing ({script}): the application is not installed whole.",
                new FileNotFoundException(null, script));
        var timeout = TimeSpan.FromSeconds(_options.PdfRenderTimeoutSecondsPerPage);
        var sizes = new List<PdfPageSize>();
        var encrypted = false;
        int? declared = null;
        var lines = new LineSplitter(line =>
        {
            if (line == "encrypted") encrypted = true;
            else if (line.StartsWith("pages ", StringComparison.Ordinal)
                     && int.TryParse(line.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                declared = count;
                limits.CheckPageCount(count);
            }
            else if (line.Split(' ') is ["page", var w, var h]
                     && double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out var width)
                     && double.TryParse(h, NumberStyles.Float, CultureInfo.InvariantCulture, out var height))
            {
                var size = new PdfPageSize(width, height);
                var (pixelsWide, pixelsHigh) = size.Pixels(_options.PdfRenderDpi);
                limits.CheckPixels(pixelsWide, pixelsHigh, sizes.Count + 1);
                sizes.Add(size);
            }
        });
        // The script stops after the count when it is over the limit, rather than measure 100,000 pages first.
        var (exitCode, errors, _) = MutoolProcess.Run(_options,
            ["run", script, Path.GetFullPath(path), _options.MaxPages.ToString(CultureInfo.InvariantCulture)], timeout,
            () => $"The PDF's pages could not be listed within {timeout.TotalSeconds:0} s " +
                  $"({ImagingOptions.Section}:{nameof(ImagingOptions.PdfRenderTimeoutSecondsPerPage)}).",
            lines.Add, ct);
        lines.Finish();
        if (encrypted)
            throw Refusal.Of(Refusal.Encrypted, "The PDF is encrypted and needs a password to open.");
        if (exitCode != 0)
            throw Refusal.Of(Refusal.Corrupt, $"The PDF cannot be read (mutool: {MutoolProcess.Tail(Message(errors))}).");
        if (declared is null or 0)
            throw Refusal.Of(Refusal.Corrupt, "The PDF has no pages.");
        if (sizes.Count != declared)
            throw Refusal.Of(Refusal.Corrupt, $"The PDF declares {declared} pages; {sizes.Count} could be measured.");
        return sizes;
    }

    /// <summary>The text layer of pages 1 to <paramref name="pages"/>, one string per page (empty where a page has none:
    /// a scan), read as mutool writes it, up to <see cref="MaxTextCharacters"/> (<c>Cut</c>: the rest was left unread).
    /// Refused as corrupt when mutool cannot read the pages within the per-page time limit.</summary>
    public (IReadOnlyList<string> Pages, bool Cut) Texts(string path, int pages, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pages, 1);
        var folder = Directory.CreateTempSubdirectory(PdfPageRenderer.TempPrefix).FullName;
        try
        {
            var timeout = TimeSpan.FromSeconds(_options.PdfRenderTimeoutSecondsPerPage * (double)pages);
            var texts = new List<string>(pages);
            var page = new StringBuilder();
            var read = 0;
            var afterPage = false;
            // mutool ends each page's text with a form feed and a line feed; DSDC joins a document's pages with form feeds.
            var (exitCode, errors, cut) = MutoolProcess.Run(_options,
                ["draw", "-q", "-F", "txt", "-o", "-", MutoolProcess.AsPdf(path, folder), $"1-{pages}"],
                timeout,
                () => $"The PDF's text could not be read within {timeout.TotalSeconds:0} s for {pages} page(s) " +
                      $"({ImagingOptions.Section}:{nameof(ImagingOptions.PdfRenderTimeoutSecondsPerPage)}).",
                block =>
                {
                    foreach (var c in block.Span)
                    {
                        if (c == '\f')
                        {
                            texts.Add(page.ToString().TrimEnd());
                            page.Clear();
                            afterPage = true;
                            continue;
                        }
                        if (afterPage && c == '\n') { afterPage = false; continue; }
                        afterPage = false;
                        if (++read > MaxTextCharacters) return false;
                        page.Append(c);
                    }
                    return true;
                }, ct);
            if (!cut && exitCode != 0)
                throw Refusal.Of(Refusal.Corrupt, $"The PDF's text cannot be read (mutool exit code {exitCode}: {MutoolProcess.Tail(Message(errors))}).");
            if (page.Length > 0 || cut) texts.Add(page.ToString().TrimEnd());
            // A form feed inside a page's own text (a font may map a glyph to it) splits that page in two, and every later
            // page's text would be taken for the next one's: a blank scanned page could pass for text. Such a text layer
            // says nothing reliable of which page holds what, so none of it is kept, and the PDF is OCR'd.
            if (!cut && texts.Count != pages) return (Enumerable.Repeat("", pages).ToList(), false);
            while (texts.Count < pages) texts.Add(""); // the pages after a cut were left unread
            return (texts, cut);
        }
        finally
        {
            MutoolProcess.DeleteFolder(folder);
        }
    }

    /// <summary>Whole lines out of the blocks mutool writes (the pages script writes short lines of numbers).</summary>
    private sealed class LineSplitter(Action<string> onLine)
    {
        private readonly StringBuilder _pending = new();

        public bool Add(ReadOnlyMemory<char> block)
        {
            foreach (var c in block.Span)
            {
                if (c != '\n') { _pending.Append(c); continue; }
                onLine(_pending.ToString());
                _pending.Clear();
            }
            return true;
        }

        public void Finish()
        {
            if (_pending.Length > 0) onLine(_pending.ToString());
            _pending.Clear();
        }
    }

    /// <summary>mutool's errors without its warnings (it warns of what it repaired and of what this build lacks, such as
    /// colour management) and without the script's stack.</summary>
    private static string Message(string errors)
    {
        // The script's own stack lines ("at /app/mutool/pdf-pages.js:13") would put the install's paths in an answer.
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("warning:", StringComparison.Ordinal) && !l.StartsWith("at ", StringComparison.Ordinal)).ToArray();
        return lines.Length == 0 ? errors : string.Join("; ", lines);
    }

    private static string ReadVersion(ImagingOptions options)
    {
        // "mutool version 1.21.1", on standard error.
        try
        {
            var (_, errors, _) = MutoolProcess.Run(options, ["-v"], TimeSpan.FromSeconds(30), () => "mutool -v did not answer", null, CancellationToken.None);
            var version = errors.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
            return string.IsNullOrEmpty(version) ? "unknown" : version;
        }
        catch (InvalidDocumentException)
        {
            return "unknown";
        }
    }
}

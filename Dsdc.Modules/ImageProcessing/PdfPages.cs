using System.Globalization;
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

    /// <summary>Every page's size, in order. Refused: encrypted (a password is needed), corrupt (no page, or mutool
    /// cannot read it, or not within the time limit), too many pages (counted before any page is measured).</summary>
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
        var (exitCode, errors) = MutoolProcess.Run(_options, ["run", script, Path.GetFullPath(path)], timeout,
            () => $"The PDF's pages could not be listed within {timeout.TotalSeconds:0} s " +
                  $"({ImagingOptions.Section}:{nameof(ImagingOptions.PdfRenderTimeoutSecondsPerPage)}).",
            line =>
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
            }, ct);
        if (encrypted)
            throw Refusal.Of(Refusal.Encrypted, "The PDF is encrypted and needs a password to open.");
        if (exitCode != 0)
            throw Refusal.Of(Refusal.Corrupt, $"The PDF cannot be read (mutool: {MutoolProcess.Tail(Message(errors))}).");
        if (declared is null or 0 || sizes.Count != declared)
            throw Refusal.Of(Refusal.Corrupt, "The PDF has no pages.");
        return sizes;
    }

    /// <summary>The text layer of pages 1 to <paramref name="pages"/>, one string per page (empty where a page has none:
    /// a scan). Refused as corrupt when mutool cannot read them within the per-page time limit.</summary>
    public IReadOnlyList<string> Texts(string path, int pages, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pages, 1);
        var folder = Directory.CreateTempSubdirectory(PdfPageRenderer.TempPrefix).FullName;
        try
        {
            var timeout = TimeSpan.FromSeconds(_options.PdfRenderTimeoutSecondsPerPage * (double)pages);
            var (exitCode, errors) = MutoolProcess.Run(_options,
                ["draw", "-q", "-F", "txt", "-o", Path.Combine(folder, "page-%d.txt"), MutoolProcess.AsPdf(path, folder), $"1-{pages}"],
                timeout,
                () => $"The PDF's text could not be read within {timeout.TotalSeconds:0} s for {pages} page(s) " +
                      $"({ImagingOptions.Section}:{nameof(ImagingOptions.PdfRenderTimeoutSecondsPerPage)}).",
                onLine: null, ct);
            if (exitCode != 0)
                throw Refusal.Of(Refusal.Corrupt, $"The PDF's text cannot be read (mutool exit code {exitCode}: {MutoolProcess.Tail(Message(errors))}).");
            var texts = new string[pages];
            for (var page = 1; page <= pages; page++)
            {
                var file = Path.Combine(folder, $"page-{page}.txt");
                // mutool ends each page with a form feed, which separates a document's pages where DSDC stores them.
                texts[page - 1] = File.Exists(file) ? File.ReadAllText(file).Replace('\f', '\n').TrimEnd() : "";
            }
            return texts;
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    /// <summary>mutool's errors without its warnings (it warns of what it repaired and of what this build lacks, such as
    /// colour management).</summary>
    private static string Message(string errors)
    {
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("warning:", StringComparison.Ordinal)).ToArray();
        return lines.Length == 0 ? errors : string.Join("; ", lines);
    }

    private static string ReadVersion(ImagingOptions options)
    {
        // "mutool version 1.21.1", on standard error.
        try
        {
            var (_, errors) = MutoolProcess.Run(options, ["-v"], TimeSpan.FromSeconds(30), () => "mutool -v did not answer", null, CancellationToken.None);
            var version = errors.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
            return string.IsNullOrEmpty(version) ? "unknown" : version;
        }
        catch (InvalidDocumentException)
        {
            return "unknown";
        }
    }
}

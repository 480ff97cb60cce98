using System.Diagnostics;
using System.Globalization;
using Dsdc.ImageProcessing.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.ImageProcessing;

public enum PageColor
{
    Grey,
    Rgb,
}

/// <summary>
/// Renders PDF pages to pixels with MuPDF's <c>mutool draw</c>, run as a separate process (<see cref="MutoolProcess"/>):
/// a crash or a runaway page stays in it, and a timeout kills it. Pages come out painted on white (<c>-c gray|rgb</c> has no alpha channel), so transparent PDFs look as printed.
/// </summary>
public sealed class PdfPageRenderer
{
    /// <summary>The prefix of the temporary folders pages are rendered into.</summary>
    internal const string TempPrefix = "dsdc-pdf-";

    private static int _swept;
    private readonly ImagingOptions _options;
    private readonly ILogger<PdfPageRenderer> logger;

    public PdfPageRenderer(IOptions<ImagingOptions> options, ILogger<PdfPageRenderer> logger)
    {
        _options = options.Value;
        this.logger = logger;
        // A process that died while mutool rendered (a kill, out of memory) left its folder behind: the first renderer of
        // each process removes those untouched for a day (a render writes its pages within its per-page timeouts, and its
        // folder goes as soon as its pages are read).
        if (Interlocked.Exchange(ref _swept, 1) == 0)
        {
            var removed = SweepLeftovers(Path.GetTempPath(), TimeSpan.FromDays(1));
            if (removed > 0) logger.LogInformation("Removed {Count} rendering folders left behind by a process that stopped", removed);
        }
    }

    /// <summary>Deletes the rendering folders under <paramref name="tempRoot"/> untouched for <paramref name="olderThan"/>;
    /// returns how many went. A folder that cannot be deleted is left.</summary>
    internal static int SweepLeftovers(string tempRoot, TimeSpan olderThan)
    {
        var removed = 0;
        try
        {
            foreach (var dir in new DirectoryInfo(tempRoot).EnumerateDirectories(TempPrefix + "*"))
            {
                try
                {
                    if (DateTime.UtcNow - dir.LastWriteTimeUtc < olderThan) continue;
                    dir.Delete(recursive: true);
                    removed++;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return removed;
    }

    /// <summary>Renders the given 1-based pages into a temporary folder that disposing the result deletes.</summary>
    public RenderedPages Render(string pdfPath, IReadOnlyList<int> pages, int dpi, PageColor color, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfZero(pages.Count);
        var rendered = new RenderedPages(Directory.CreateTempSubdirectory(TempPrefix).FullName, pages);
        try
        {
            Run(MutoolProcess.AsPdf(pdfPath, rendered.Folder), pages, dpi, color, rendered.Folder, ct);
            return rendered;
        }
        catch
        {
            rendered.Dispose();
            throw;
        }
    }

    private void Run(string pdfPath, IReadOnlyList<int> pages, int dpi, PageColor color, string folder, CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(_options.PdfRenderTimeoutSecondsPerPage * (double)pages.Count);
        var started = Stopwatch.GetTimestamp();
        var (exitCode, errors, _) = MutoolProcess.Run(_options,
            [
                "draw", "-q", "-r", dpi.ToString(CultureInfo.InvariantCulture), "-c", color == PageColor.Grey ? "gray" : "rgb",
                "-o", Path.Combine(folder, "page-%d.pnm"), pdfPath, string.Join(',', pages),
            ],
            timeout,
            () => $"The PDF did not render within {timeout.TotalSeconds:0} s for {pages.Count} page(s) " +
                  $"({ImagingOptions.Section}:{nameof(ImagingOptions.PdfRenderTimeoutSecondsPerPage)}).",
            onOutput: null, ct);
        if (exitCode != 0)
            throw Refusal.Of(Refusal.Corrupt, $"The PDF cannot be rendered (mutool exit code {exitCode}: {MutoolProcess.Tail(errors)}).");
        logger.LogDebug("Rendered {PageCount} PDF page(s) at {Dpi} dpi in {ElapsedMs:0} ms",
            pages.Count, dpi, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}

/// <summary>Rendered pages on disk; dispose to delete them.</summary>
public sealed class RenderedPages(string folder, IReadOnlyList<int> pages) : IDisposable
{
    public string Folder { get; } = folder;
    public IReadOnlyList<int> Pages { get; } = pages;

    /// <summary>Decodes one rendered page (1-based page number as given to Render).</summary>
    public Pix Load(int page)
    {
        var file = Path.Combine(Folder, $"page-{page}.pnm");
        if (!File.Exists(file))
            throw Refusal.Of(Refusal.Corrupt, $"The PDF's page {page} produced no image when rendered.");
        return Pix.Read(File.ReadAllBytes(file)) ?? throw Refusal.CorruptPage(DocumentFormat.Pdf, page, "rendered image unreadable");
    }

    public void Dispose() => MutoolProcess.DeleteFolder(Folder);
}

/// <summary>mutool itself is missing or cannot run, or was killed from outside (not a problem with a document): the job
/// fails and is retried once the setup is fixed, instead of counting an attempt against every PDF.</summary>
public sealed class PdfRendererSetupException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>What a client (an upload's or a prediction's answer) is told: the setting to look at, not the server's
    /// paths, which the message holds for the log.</summary>
    public const string ClientMessage =
        "PDFs cannot be read on this server now: mutool is missing or was stopped (see the server's log and Imaging:MutoolPath).";
}

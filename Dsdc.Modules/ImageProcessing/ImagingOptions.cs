using System.ComponentModel.DataAnnotations;

namespace Dsdc.ImageProcessing;

/// <summary>Limits that keep hostile or broken files (decompression bombs, endless PDFs) out, and PDF rendering.</summary>
public sealed class ImagingOptions
{
    public const string Section = "Imaging";

    [Range(1d, double.MaxValue)]
    public long MaxFileBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Checked against each page's declared size before it is decoded (a PNG can declare 10^10 pixels in 60 bytes).</summary>
    [Range(1d, double.MaxValue)]
    public long MaxPixelsPerPage { get; set; } = 100_000_000;

    [Range(1, 100_000)]
    public int MaxPages { get; set; } = 300;

    /// <summary>Resolution of the PDF page that becomes the 224x224 image (and of the size <see cref="DocumentInfo"/> reports).</summary>
    [Range(36, 1200)]
    public int PdfRenderDpi { get; set; } = 150;

    /// <summary>How long <c>mutool draw</c> may take per page before the PDF is refused.</summary>
    [Range(1, 3600)]
    public int PdfRenderTimeoutSecondsPerPage { get; set; } = 30;

    /// <summary>The most address space one mutool process may take (its <c>ulimit -v</c>, on Linux): a PDF that needs more
    /// is refused as too large instead of taking the machine's memory. Drawing a page at the pixel limit in colour takes
    /// about 300 MB.</summary>
    [Range(256, 1_048_576)]
    public int MutoolMemoryMegabytes { get; set; } = 2048;

    /// <summary>MuPDF's command-line tool (Debian package mupdf-tools); run as a separate process, never linked.</summary>
    [Required(AllowEmptyStrings = false)]
    public string MutoolPath { get; set; } = "mutool";
}

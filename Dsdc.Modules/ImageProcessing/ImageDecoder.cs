using Dsdc.ImageProcessing.Native;
using Microsoft.Extensions.Options;

namespace Dsdc.ImageProcessing;

/// <summary>
/// Reads raster documents (TIFF, PNG, JPEG, BMP) page by page with Leptonica, enforcing the configured limits before
/// any pixel is decoded. Shared by inspection, preprocessing and OCR so all three refuse the same files the same way.
/// </summary>
public sealed class ImageDecoder(IOptions<ImagingOptions> options)
{
    private readonly ImagingOptions _limits = options.Value;

    /// <summary>Reads the whole file after checking its size (it is then decoded from memory).</summary>
    public byte[] ReadFile(string path)
    {
        CheckFile(path);
        return File.ReadAllBytes(path);
    }

    /// <summary>The file's first bytes, enough to recognise its format (<see cref="DetectFormat"/>), after the checks of
    /// <see cref="CheckFile"/>: a PDF is read by mutool, never whole by this process.</summary>
    public byte[] ReadHead(string path)
    {
        CheckFile(path);
        using var file = File.OpenRead(path);
        var head = new byte[(int)Math.Min(file.Length, DocumentFormats.HeadLength)];
        file.ReadExactly(head);
        return head;
    }

    /// <summary>The checks that need no byte of the file: empty (a FIFO or a device reads as 0 bytes too) or too large.</summary>
    public void CheckFile(string path)
    {
        var length = new FileInfo(path).Length;
        if (length == 0)
            throw Refusal.Of(Refusal.EmptyFile, "The file is empty (0 bytes).");
        if (length > _limits.MaxFileBytes)
            throw Refusal.Of(Refusal.TooLarge,
                $"The file has {length:N0} bytes, more than the limit of {_limits.MaxFileBytes:N0} ({ImagingOptions.Section}:{nameof(ImagingOptions.MaxFileBytes)}).");
    }

    public static DocumentFormat DetectFormat(ReadOnlySpan<byte> data) =>
        DocumentFormats.Detect(data) ?? throw Refusal.Of(Refusal.UnsupportedFormat,
            "The file is not a TIFF, PNG, JPEG, BMP or PDF document (its first bytes match none of these formats).");

    /// <summary>
    /// Decodes every page in order; the caller disposes each page. A TIFF yields all its pages, other formats one.
    /// Each page's header is checked against the pixel limit first, and the page count against the page limit.
    /// </summary>
    public IEnumerable<Pix> DecodePages(byte[] data, DocumentFormat format)
    {
        if (format == DocumentFormat.Pdf)
            throw new ArgumentException("PDF pages are rendered by PdfPageRenderer, not decoded here", nameof(format));
        return format == DocumentFormat.Tiff ? DecodeTiffPages(data) : [DecodeSingle(data, format)];
    }

    /// <summary>The first page only (a TIFF's other pages are not read).</summary>
    public Pix DecodeFirstPage(byte[] data, DocumentFormat format)
    {
        if (format != DocumentFormat.Tiff) return DecodeSingle(data, format);
        using var pages = DecodeTiffPages(data).GetEnumerator();
        pages.MoveNext();
        return pages.Current;
    }

    /// <summary>Refuses a page whose declared size exceeds the pixel limit.</summary>
    public void CheckPixels(long width, long height, int page)
    {
        if (width <= 0 || height <= 0)
            throw Refusal.Of(Refusal.Corrupt, $"Page {page} declares an impossible size of {width}x{height} pixels.");
        if (width * height > _limits.MaxPixelsPerPage)
            throw Refusal.Of(Refusal.TooManyPixels,
                $"Page {page} declares {width}x{height} pixels, more than the limit of {_limits.MaxPixelsPerPage:N0} " +
                $"({ImagingOptions.Section}:{nameof(ImagingOptions.MaxPixelsPerPage)}).");
    }

    /// <param name="exact">false while counting a TIFF's pages, which stops at the first page past the limit.</param>
    public void CheckPageCount(int pages, bool exact = true)
    {
        if (pages > _limits.MaxPages)
            throw Refusal.Of(Refusal.TooManyPages,
                $"The document has {(exact ? pages.ToString() : "more than " + _limits.MaxPages)} pages; " +
                $"the limit is {_limits.MaxPages} ({ImagingOptions.Section}:{nameof(ImagingOptions.MaxPages)}).");
    }

    private Pix DecodeSingle(byte[] data, DocumentFormat format)
    {
        if (Leptonica.pixReadHeaderMem(data, (nuint)data.Length, out _, out var w, out var h, out _, out _, out _) != 0)
            throw Refusal.CorruptPage(format, 1, "unreadable header");
        CheckPixels(w, h, 1);
        return Pix.Read(data) ?? throw Refusal.CorruptPage(format, 1);
    }

    private IEnumerable<Pix> DecodeTiffPages(byte[] data)
    {
        nuint offset = 0;
        var page = 0;
        do
        {
            // Counting as we go: a TIFF's page count is only known by walking its directories.
            CheckPageCount(page + 1, exact: false);
            if (Leptonica.readHeaderMemTiff(data, (nuint)data.Length, page, out var w, out var h, out _, out _, out _, out _, out _) != 0)
                throw Refusal.CorruptPage(DocumentFormat.Tiff, page + 1, "unreadable directory");
            CheckPixels(w, h, page + 1);
            var pix = Pix.OrNull(Leptonica.pixReadMemFromMultipageTiff(data, (nuint)data.Length, ref offset))
                ?? throw Refusal.CorruptPage(DocumentFormat.Tiff, page + 1);
            page++;
            yield return pix;
        }
        while (offset != 0);
    }
}

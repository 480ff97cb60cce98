using Microsoft.Extensions.Options;

namespace Dsdc.ImageProcessing;

/// <summary>
/// Accepts a file only if it is a supported format within the limits and really decodes: every page of a raster file
/// is decoded (a truncated page 3 of a fax is found here, not in OCR); a PDF is parsed page by page with PdfPig, its
/// page sizes checked at the rendering resolution, since mutool would otherwise allocate whatever a page declares.
/// </summary>
public sealed class DocumentInspector(ImageDecoder decoder, IOptions<ImagingOptions> options) : IDocumentInspector
{
    private readonly int _pdfDpi = options.Value.PdfRenderDpi;

    public void CheckFile(string path) => decoder.CheckFile(path);

    public DocumentInfo Inspect(string path)
    {
        var data = decoder.ReadFile(path);
        var format = ImageDecoder.DetectFormat(data);
        var (pages, width, height) = format == DocumentFormat.Pdf ? InspectPdf(data) : InspectRaster(data, format);
        return new DocumentInfo(format, DocumentFormats.MediaType(format), DocumentFormats.Extension(format), pages, width, height);
    }

    private (int Pages, int Width, int Height) InspectRaster(byte[] data, DocumentFormat format)
    {
        int pages = 0, width = 0, height = 0;
        foreach (var page in decoder.DecodePages(data, format))
        {
            using (page)
            {
                if (pages++ == 0) (width, height) = (page.Width, page.Height);
            }
        }
        return (pages, width, height);
    }

    private (int Pages, int Width, int Height) InspectPdf(byte[] data)
    {
        using var pdf = PdfFiles.Open(data);
        var pages = PdfFiles.Read(() => pdf.NumberOfPages, 1);
        if (pages == 0) throw Refusal.Of(Refusal.Corrupt, "The PDF has no pages.");
        decoder.CheckPageCount(pages);
        int width = 0, height = 0;
        for (var number = 1; number <= pages; number++)
        {
            var (w, h) = PdfFiles.Read(() =>
            {
                var page = pdf.GetPage(number);
                return (ToPixels(page.Width), ToPixels(page.Height));
            }, number);
            decoder.CheckPixels(w, h, number);
            if (number == 1) (width, height) = ((int)w, (int)h);
        }
        return (pages, width, height);
    }

    private long ToPixels(double points) => (long)Math.Ceiling(Math.Abs(points) / 72.0 * _pdfDpi);
}

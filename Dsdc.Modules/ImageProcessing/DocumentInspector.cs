using Microsoft.Extensions.Options;

namespace Dsdc.ImageProcessing;

/// <summary>
/// Accepts a file only if it is a supported format within the limits and really decodes: every page of a raster file
/// is decoded (a truncated page 3 of a fax is found here, not in OCR); a PDF's pages are counted and measured by mutool
/// (<see cref="PdfPages"/>), their sizes checked at the rendering resolution, since mutool would otherwise allocate
/// whatever a page declares.
/// </summary>
public sealed class DocumentInspector(ImageDecoder decoder, PdfPages pdf, IOptions<ImagingOptions> options) : IDocumentInspector
{
    private readonly int _pdfDpi = options.Value.PdfRenderDpi;

    public void CheckFile(string path) => decoder.CheckFile(path);

    public DocumentInfo Inspect(string path)
    {
        var format = ImageDecoder.DetectFormat(decoder.ReadHead(path));
        var (pages, width, height) = format == DocumentFormat.Pdf ? InspectPdf(path) : InspectRaster(decoder.ReadFile(path), format);
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

    private (int Pages, int Width, int Height) InspectPdf(string path)
    {
        var sizes = pdf.Sizes(path, CancellationToken.None);
        var (width, height) = sizes[0].Pixels(_pdfDpi);
        return (sizes.Count, (int)width, (int)height);
    }
}

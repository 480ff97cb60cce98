using Dsdc.ImageProcessing.Native;

namespace Dsdc.ImageProcessing;

/// <summary>A document's first page as a browser-ready PNG (TIFF and PDF included), scaled down to a maximum width.</summary>
public sealed class PagePreview(ImageDecoder decoder, PdfPageRenderer pdf)
{
    private const int PdfDpi = 100;

    public byte[] FirstPagePng(string file, int maxWidth, CancellationToken ct)
    {
        var data = decoder.ReadFile(file);
        var format = ImageDecoder.DetectFormat(data);
        if (format == DocumentFormat.Pdf)
        {
            using var rendered = pdf.Render(file, [1], PdfDpi, PageColor.Rgb, ct);
            using var page = rendered.Load(1);
            return ToPng(page, maxWidth);
        }
        using var first = decoder.DecodeFirstPage(data, format);
        return ToPng(first, maxWidth);
    }

    private static byte[] ToPng(Pix page, int maxWidth)
    {
        using var rgb = Pix.Required(Leptonica.pixConvertTo32(page), "pixConvertTo32");
        Leptonica.pixSetSpp(rgb, 3);
        var width = Math.Min(rgb.Width, maxWidth);
        var height = Math.Max(1, (int)Math.Round((double)rgb.Height * width / rgb.Width));
        using var scaled = width == rgb.Width ? null : Pix.Required(Leptonica.pixScaleAreaMapToSize(rgb, width, height), "pixScaleAreaMapToSize");
        if (Leptonica.pixWriteMem(out var data, out var size, scaled ?? rgb, Leptonica.IffPng) != 0)
            throw new InvalidOperationException("Leptonica could not encode the PNG");
        return Leptonica.TakeBuffer(data, size);
    }
}

using System.Runtime.InteropServices;
using Dsdc.ImageProcessing.Native;
using Microsoft.Extensions.Options;

namespace Dsdc.ImageProcessing;

/// <summary>
/// First page -> 8-bit RGB 224x224 PNG, the whole page stretched (documents are portrait; no crop, no letterbox).
/// Resampler: Leptonica's area map (<c>pixScaleAreaMapToSize</c>), which averages every source pixel under a target
/// pixel. <c>pixScaleToSize</c> aliases thin print strokes at these factors (about 0.1-0.3). Where a side would shrink by
/// less than 0.7 or grow, Leptonica itself switches to linear interpolation. PDFs are rendered at
/// <see cref="ImagingOptions.PdfRenderDpi"/> first, which is part of <see cref="Version"/> since it changes the pixels.
/// </summary>
public sealed class ImagePreprocessor(ImageDecoder decoder, PdfPageRenderer renderer, IOptions<ImagingOptions> options)
    : IImagePreprocessor
{
    public const int Size = 224;

    private static readonly Lazy<string> LeptonicaVersion = new(Leptonica.Version);

    private readonly int _pdfDpi = options.Value.PdfRenderDpi;

    public string Processor => "leptonica-areamap-rgb224";

    public string Version => $"1;leptonica-{LeptonicaVersion.Value};pdf-mutool-{_pdfDpi}dpi";

    public ProcessedImage Process(string sourcePath, DocumentFormat format, string outputPngPath)
    {
        using var page = LoadFirstPage(sourcePath, format);
        using var rgb = ToRgb224(page);
        if (Leptonica.pixWriteMem(out var data, out var size, rgb, Leptonica.IffPng) != 0)
            throw new InvalidOperationException("Leptonica could not encode the PNG");
        AtomicFile.Write(outputPngPath, Leptonica.TakeBuffer(data, size));
        return new ProcessedImage(Size, Size);
    }

    public string RegionsVersion(RegionSet set) => $"{set.Version};{Version}";

    public IReadOnlyList<byte[]> Regions(string sourcePath, DocumentFormat format, RegionSet set) =>
        PageRegions.Cut(PageRgb(sourcePath, format, PageRegions.BaseWidth, PageRegions.BaseHeight), set);

    /// <summary>The first page on white, area-averaged to <paramref name="width"/> x <paramref name="height"/>, as interleaved RGB bytes.</summary>
    public byte[] PageRgb(string sourcePath, DocumentFormat format, int width, int height)
    {
        using var page = LoadFirstPage(sourcePath, format);
        using var rgb = OnWhite(page);
        using var scaled = Pix.Required(Leptonica.pixScaleAreaMapToSize(rgb, width, height), "pixScaleAreaMapToSize");
        if (scaled.Width != width || scaled.Height != height)
            throw new InvalidOperationException($"pixScaleAreaMapToSize returned a wrong size for a {page.Width}x{page.Height} page");
        return ToRgbBytes(scaled);
    }

    public byte[] ReadProcessed(string pngPath)
    {
        using var pix = Pix.Read(File.ReadAllBytes(pngPath))
            ?? throw new InvalidDataException($"{pngPath} is not a readable PNG");
        if (pix.Width != Size || pix.Height != Size)
            throw new InvalidDataException($"{pngPath} is {pix.Width}x{pix.Height}, not {Size}x{Size}: not written by {Processor}");
        using var rgb = Pix.Required(Leptonica.pixConvertTo32(pix), "pixConvertTo32");
        return ToRgbBytes(rgb);
    }

    private Pix LoadFirstPage(string path, DocumentFormat format)
    {
        if (format != DocumentFormat.Pdf)
            return decoder.DecodeFirstPage(decoder.ReadFile(path), format);
        using var rendered = renderer.Render(path, [1], _pdfDpi, PageColor.Rgb, CancellationToken.None);
        return rendered.Load(1);
    }

    /// <summary>Any depth (1-bit, grey, palette, RGB, RGBA) -> 32-bit RGB on white -> 224x224.</summary>
    internal static Pix ToRgb224(Pix page)
    {
        using var onWhite = OnWhite(page);
        var scaled = Pix.Required(Leptonica.pixScaleAreaMapToSize(onWhite, Size, Size), "pixScaleAreaMapToSize");
        // 3 samples: the PNG is written as 8-bit RGB, not RGBA.
        Leptonica.pixSetSpp(scaled, 3);
        if (scaled.Width == Size && scaled.Height == Size) return scaled;
        scaled.Dispose();
        throw new InvalidOperationException($"pixScaleAreaMapToSize returned a wrong size for a {page.Width}x{page.Height} page");
    }

    /// <summary>Any depth -> 32-bit RGB, transparency blended onto white.</summary>
    private static Pix OnWhite(Pix page)
    {
        var rgb = Pix.Required(Leptonica.pixConvertTo32(page), "pixConvertTo32");
        if (Leptonica.pixGetSpp(rgb) != 4) return rgb;
        using var rgba = rgb;
        return Pix.Required(Leptonica.pixAlphaBlendUniform(rgba, 0xFFFFFF00), "pixAlphaBlendUniform");
    }

    /// <summary>Leptonica keeps a 32-bit pixel as one native word with red in the top byte (0xRRGGBBAA).</summary>
    internal static byte[] ToRgbBytes(Pix rgb)
    {
        int width = rgb.Width, height = rgb.Height, wpl = Leptonica.pixGetWpl(rgb);
        var words = new int[wpl * height];
        Marshal.Copy(Leptonica.pixGetData(rgb), words, 0, words.Length);
        var bytes = new byte[width * height * 3];
        for (int y = 0, o = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var word = (uint)words[y * wpl + x];
            bytes[o++] = (byte)(word >> 24);
            bytes[o++] = (byte)(word >> 16);
            bytes[o++] = (byte)(word >> 8);
        }
        return bytes;
    }
}

using Dsdc.ImageProcessing.Native;

namespace Dsdc.Ocr;

/// <summary>
/// Low-resolution scans are scaled up before Tesseract reads them. Its recogniser is trained on text whose capitals are
/// about 20-30 pixels high (around 300 dpi); at the ~90 dpi of many archived scans (RVL-CDIP's 1000-pixel-high pages)
/// letters are 8-12 pixels high and it misreads or drops whole lines. A page's resolution is the one its file declares,
/// or, when that is missing or would make the page larger than <see cref="LongSideInches"/> (72 dpi is a common default
/// that says nothing), the one its longer side gives as a letter or A4 page.
/// </summary>
internal static class OcrResolution
{
    /// <summary>The longer side of a letter (11 in) or A4 (11.7 in) page.</summary>
    public const double LongSideInches = 11.0;

    /// <summary>Never scale by more than this, whatever the page says.</summary>
    public const double MaxFactor = 4.0;

    /// <summary>Factors closer to 1 than this are not worth an interpolation.</summary>
    private const double MinFactor = 1.2;

    public static int Effective(int width, int height, int declared)
    {
        var fromSize = (int)Math.Round(Math.Max(width, height) / LongSideInches);
        return Math.Max(declared, fromSize);
    }

    /// <summary>The factor that brings the page to <paramref name="minimumDpi"/>, within the pixel limit; 1 = leave it.</summary>
    public static double UpscaleFactor(int width, int height, int resolution, int minimumDpi, long maxPixels)
    {
        if (minimumDpi <= 0 || resolution <= 0 || resolution >= minimumDpi) return 1;
        var factor = Math.Min(MaxFactor, (double)minimumDpi / resolution);
        var fitting = Math.Sqrt(maxPixels / ((double)width * height));
        factor = Math.Min(factor, fitting);
        return factor < MinFactor ? 1 : factor;
    }

    /// <summary>
    /// The page Tesseract should read and its resolution: the page itself, or an 8-bit copy scaled up (linear
    /// interpolation) that the caller disposes.
    /// </summary>
    public static (Pix Page, int Resolution, bool Scaled) Prepare(Pix page, int minimumDpi, long maxPixels)
    {
        var (width, height) = (page.Width, page.Height);
        var resolution = Effective(width, height, page.XResolution);
        var factor = UpscaleFactor(width, height, resolution, minimumDpi, maxPixels);
        if (factor == 1) return (page, page.XResolution, false);

        using var grey = page.Depth == 8 ? null : Pix.Required(Leptonica.pixConvertTo8(page, 0), "pixConvertTo8");
        var scaled = Pix.Required(Leptonica.pixScale(grey ?? page, (float)factor, (float)factor), "pixScale");
        var scaledResolution = (int)Math.Round(resolution * factor);
        Leptonica.pixSetResolution(scaled, scaledResolution, scaledResolution);
        return (scaled, scaledResolution, true);
    }
}

using System.Runtime.InteropServices;

namespace Dsdc.ImageProcessing.Native;

/// <summary>
/// The few Leptonica 1.82 functions DSDC uses, from Debian's <c>liblept.so.5</c> (the library Tesseract itself decodes
/// with, so OCR and preprocessing see the same pixels). Signatures follow <c>allheaders.h</c>; <c>l_int32</c> is int.
/// </summary>
internal static partial class Leptonica
{
    private const string Lib = "liblept.so.5";

    /// <summary>L_SEVERITY_NONE: Leptonica would print every refusal of a broken file (and Tesseract's harmless
    /// internal complaints) to stderr, outside our logs; our exceptions carry the reason instead.</summary>
    private const int SeverityNone = 6;

    static Leptonica() => setMsgSeverity(SeverityNone);

    /// <summary>Leptonica's IFF_* file format codes (imageio.h), as <c>pixReadHeaderMem</c> reports them.</summary>
    internal const int IffBmp = 1, IffJpeg = 2, IffPng = 3, IffTiff = 4, IffTiffG4 = 8, IffTiffZip = 10, IffPnm = 11;

    [LibraryImport(Lib)]
    internal static partial Pix pixReadMem(byte[] data, nuint size);

    [LibraryImport(Lib)]
    internal static partial Pix pixReadMemFromMultipageTiff(byte[] data, nuint size, ref nuint offset);

    [LibraryImport(Lib)]
    internal static partial int pixReadHeaderMem(byte[] data, nuint size, out int format, out int width, out int height,
        out int bitsPerSample, out int samplesPerPixel, out int hasColormap);

    [LibraryImport(Lib)]
    internal static partial int readHeaderMemTiff(byte[] data, nuint size, int page, out int width, out int height,
        out int bitsPerSample, out int samplesPerPixel, out int resolution, out int hasColormap, out int format);

    [LibraryImport(Lib)]
    internal static partial void pixDestroy(ref nint pix);

    [LibraryImport(Lib)]
    internal static partial int pixGetWidth(Pix pix);

    [LibraryImport(Lib)]
    internal static partial int pixGetHeight(Pix pix);

    [LibraryImport(Lib)]
    internal static partial int pixGetDepth(Pix pix);

    [LibraryImport(Lib)]
    internal static partial int pixGetSpp(Pix pix);

    [LibraryImport(Lib)]
    internal static partial int pixSetSpp(Pix pix, int spp);

    [LibraryImport(Lib)]
    internal static partial int pixGetWpl(Pix pix);

    [LibraryImport(Lib)]
    internal static partial int pixGetXRes(Pix pix);

    [LibraryImport(Lib)]
    internal static partial nint pixGetData(Pix pix);

    [LibraryImport(Lib)]
    internal static partial Pix pixConvertTo32(Pix pix);

    [LibraryImport(Lib)]
    internal static partial Pix pixConvertTo8(Pix pix, int colormapFlag);

    [LibraryImport(Lib)]
    internal static partial Pix pixAlphaBlendUniform(Pix pix, uint color);

    [LibraryImport(Lib)]
    internal static partial Pix pixScaleAreaMapToSize(Pix pix, int width, int height);

    [LibraryImport(Lib)]
    internal static partial Pix pixScaleToSize(Pix pix, int width, int height);

    /// <summary>Rotates by <paramref name="quads"/> quarter turns clockwise (0-3).</summary>
    [LibraryImport(Lib)]
    internal static partial Pix pixRotateOrth(Pix pix, int quads);

    /// <summary>Scales by factors; growing an 8-bit page, Leptonica interpolates linearly (<c>pixScaleGrayLI</c>).</summary>
    [LibraryImport(Lib)]
    internal static partial Pix pixScale(Pix pix, float scaleX, float scaleY);

    [LibraryImport(Lib)]
    internal static partial int pixSetResolution(Pix pix, int xres, int yres);

    [LibraryImport(Lib)]
    internal static partial int pixWriteMem(out nint data, out nuint size, Pix pix, int format);

    [LibraryImport(Lib)]
    internal static partial int pixWriteMemPdf(out nint data, out nuint size, Pix pix, int resolution, nint title);

    /// <summary>Mode "w" writes, "a" appends a page (multi-page TIFF); used to build test documents.</summary>
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int pixWriteTiff(string path, Pix pix, int compression, string mode);

    [LibraryImport(Lib)]
    internal static partial void lept_free(nint ptr);

    [LibraryImport(Lib)]
    internal static partial nint getLeptonicaVersion();

    [LibraryImport(Lib)]
    internal static partial int setMsgSeverity(int severity);

    /// <summary>Copies a buffer Leptonica allocated into managed memory and frees it.</summary>
    internal static byte[] TakeBuffer(nint data, nuint size)
    {
        try
        {
            var bytes = new byte[checked((int)size)];
            Marshal.Copy(data, bytes, 0, bytes.Length);
            return bytes;
        }
        finally
        {
            lept_free(data);
        }
    }

    internal static string Version()
    {
        var text = getLeptonicaVersion();
        try
        {
            // "leptonica-1.82.0" -> "1.82.0"
            return (Marshal.PtrToStringUTF8(text) ?? "unknown").Replace("leptonica-", "", StringComparison.Ordinal);
        }
        finally
        {
            lept_free(text);
        }
    }
}

using System.Runtime.InteropServices;
using Dsdc.ImageProcessing.Native;

namespace Dsdc.Ocr.Native;

/// <summary>Tesseract 5's C API (<c>capi.h</c>) from Debian's <c>libtesseract.so.5</c>. BOOL is int.</summary>
internal static partial class TesseractApi
{
    internal const string Lib = "libtesseract.so.5";

    [LibraryImport(Lib)]
    internal static partial nint TessVersion();

    [LibraryImport(Lib)]
    internal static partial TesseractHandle TessBaseAPICreate();

    [LibraryImport(Lib)]
    internal static partial void TessBaseAPIEnd(nint handle);

    [LibraryImport(Lib)]
    internal static partial void TessBaseAPIDelete(nint handle);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int TessBaseAPIInit3(TesseractHandle handle, string? dataPath, string language);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int TessBaseAPISetVariable(TesseractHandle handle, string name, string value);

    [LibraryImport(Lib)]
    internal static partial void TessBaseAPISetPageSegMode(TesseractHandle handle, int mode);

    [LibraryImport(Lib)]
    internal static partial void TessBaseAPISetImage2(TesseractHandle handle, Pix pix);

    [LibraryImport(Lib)]
    internal static partial void TessBaseAPISetSourceResolution(TesseractHandle handle, int ppi);

    [LibraryImport(Lib)]
    internal static partial int TessBaseAPIRecognize(TesseractHandle handle, nint monitor);

    /// <summary>An ETEXT_DESC progress monitor; freed with <see cref="TessMonitorDelete"/>.</summary>
    [LibraryImport(Lib)]
    internal static partial nint TessMonitorCreate();

    [LibraryImport(Lib)]
    internal static partial void TessMonitorDelete(nint monitor);

    /// <summary>Recognition stops (and Recognize returns non-zero) once this many milliseconds from now have passed.</summary>
    [LibraryImport(Lib)]
    internal static partial void TessMonitorSetDeadlineMSecs(nint monitor, int deadline);

    [LibraryImport(Lib)]
    internal static partial nint TessBaseAPIGetUTF8Text(TesseractHandle handle);

    [LibraryImport(Lib)]
    internal static partial void TessDeleteText(nint text);

    /// <summary>The last recognised page as TSV (one row per page, block, paragraph, line and word with its box), freed
    /// with <see cref="TessDeleteText"/>.</summary>
    [LibraryImport(Lib)]
    internal static partial nint TessBaseAPIGetTsvText(TesseractHandle handle, int pageNumber);

    [LibraryImport(Lib)]
    internal static partial int TessBaseAPIMeanTextConf(TesseractHandle handle);

    [LibraryImport(Lib)]
    internal static partial void TessBaseAPIClear(TesseractHandle handle);

    /// <summary>A NULL-terminated array of strings, freed with <see cref="TessDeleteTextArray"/>.</summary>
    [LibraryImport(Lib)]
    internal static partial nint TessBaseAPIGetLoadedLanguagesAsVector(TesseractHandle handle);

    [LibraryImport(Lib)]
    internal static partial void TessDeleteTextArray(nint array);

    internal static IReadOnlyList<string> LoadedLanguages(TesseractHandle handle)
    {
        var array = TessBaseAPIGetLoadedLanguagesAsVector(handle);
        try
        {
            var languages = new List<string>();
            for (var i = 0; Marshal.ReadIntPtr(array, i * IntPtr.Size) is var item && item != 0; i++)
                languages.Add(Marshal.PtrToStringUTF8(item)!);
            return languages;
        }
        finally
        {
            TessDeleteTextArray(array);
        }
    }
}

/// <summary>An owned <c>TessBaseAPI*</c>: End then Delete, exactly once.</summary>
internal sealed class TesseractHandle : SafeHandle
{
    public TesseractHandle() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        TesseractApi.TessBaseAPIEnd(handle);
        TesseractApi.TessBaseAPIDelete(handle);
        return true;
    }
}

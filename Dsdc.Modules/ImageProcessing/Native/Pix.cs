using System.Runtime.InteropServices;

namespace Dsdc.ImageProcessing.Native;

/// <summary>
/// One decoded page: an owned Leptonica <c>PIX*</c>, destroyed exactly once even when the caller forgets to dispose it.
/// Public because OCR hands the same page to Tesseract (<c>TessBaseAPISetImage2</c> takes a <c>PIX*</c>).
/// </summary>
public sealed class Pix : SafeHandle
{
    public Pix() : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    public int Width => Leptonica.pixGetWidth(this);
    public int Height => Leptonica.pixGetHeight(this);
    public int Depth => Leptonica.pixGetDepth(this);

    /// <summary>Horizontal resolution from the file (0 when it declares none).</summary>
    public int XResolution => Leptonica.pixGetXRes(this);

    protected override bool ReleaseHandle()
    {
        var pix = handle;
        Leptonica.pixDestroy(ref pix);
        return true;
    }

    /// <summary>Decodes an image in memory (first page of a TIFF); <c>null</c> when Leptonica cannot.</summary>
    internal static Pix? Read(byte[] data) => OrNull(Leptonica.pixReadMem(data, (nuint)data.Length));

    /// <summary>Wraps a Leptonica result: a null <c>PIX*</c> becomes <c>null</c> and its empty handle is released.</summary>
    internal static Pix? OrNull(Pix pix)
    {
        if (!pix.IsInvalid) return pix;
        pix.Dispose();
        return null;
    }

    /// <summary>Throws when a Leptonica operation that cannot fail on valid input returned nothing.</summary>
    internal static Pix Required(Pix pix, string operation) =>
        OrNull(pix) ?? throw new InvalidOperationException($"Leptonica {operation} failed");
}

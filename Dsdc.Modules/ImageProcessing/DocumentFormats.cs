namespace Dsdc.ImageProcessing;

/// <summary>Recognises a format from the file's first bytes; the extension a user gave the file is never trusted.</summary>
internal static class DocumentFormats
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // PDF readers accept the header anywhere in the first 1024 bytes, so some real files carry junk before it.
    private const int PdfHeaderWindow = 1024;

    /// <summary>How many first bytes <see cref="Detect"/> needs to recognise every format.</summary>
    public const int HeadLength = PdfHeaderWindow;

    public static DocumentFormat? Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 4 && (head[..4].SequenceEqual("II*\0"u8) || head[..4].SequenceEqual("MM\0*"u8)
                || head[..4].SequenceEqual("II+\0"u8) || head[..4].SequenceEqual("MM\0+"u8)))
            return DocumentFormat.Tiff;
        if (head.StartsWith(PngSignature)) return DocumentFormat.Png;
        if (head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return DocumentFormat.Jpeg;
        if (head.Length >= 14 && head.StartsWith("BM"u8)) return DocumentFormat.Bmp;
        if (head[..Math.Min(head.Length, PdfHeaderWindow)].IndexOf("%PDF-"u8) >= 0) return DocumentFormat.Pdf;
        return null;
    }

    public static string MediaType(DocumentFormat format) => format switch
    {
        DocumentFormat.Tiff => "image/tiff",
        DocumentFormat.Png => "image/png",
        DocumentFormat.Jpeg => "image/jpeg",
        DocumentFormat.Bmp => "image/bmp",
        DocumentFormat.Pdf => "application/pdf",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>The extension a stored copy gets, with its dot.</summary>
    public static string Extension(DocumentFormat format) => format switch
    {
        DocumentFormat.Tiff => ".tif",
        DocumentFormat.Png => ".png",
        DocumentFormat.Jpeg => ".jpg",
        DocumentFormat.Bmp => ".bmp",
        DocumentFormat.Pdf => ".pdf",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };
}

/// <summary>The stored media type of a document back to its format.</summary>
public static class MediaTypes
{
    public static DocumentFormat ToFormat(string mediaType) => mediaType switch
    {
        "image/tiff" => DocumentFormat.Tiff,
        "image/png" => DocumentFormat.Png,
        "image/jpeg" => DocumentFormat.Jpeg,
        "image/bmp" => DocumentFormat.Bmp,
        "application/pdf" => DocumentFormat.Pdf,
        _ => throw new ArgumentException($"unknown media type '{mediaType}'", nameof(mediaType)),
    };
}

namespace Dsdc.Ocr;

/// <summary>The values of <see cref="ExtractedText.Method"/>.</summary>
public static class ExtractionMethods
{
    public const string Ocr = "ocr";
    public const string PdfTextLayer = "pdf-text-layer";
}

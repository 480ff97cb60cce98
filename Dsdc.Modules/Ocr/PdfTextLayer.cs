using Dsdc.ImageProcessing;
using Dsdc.Shared;
using UglyToad.PdfPig;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;

namespace Dsdc.Ocr;

/// <summary>What PdfPig finds in a PDF: each page's text layer and size, enough to decide between text layer and OCR.</summary>
internal sealed record PdfTextLayer(IReadOnlyList<string> PageTexts, double LargestPageSquareInches)
{
    public static readonly string PdfPigVersion = typeof(PdfDocument).Assembly.GetName().Version?.ToString(3) ?? "unknown";

    /// <summary>Born-digital: every page carries text. A scan with one typed cover page is OCR'd as a whole.</summary>
    public bool IsComplete => PageTexts.All(t => t.Any(char.IsLetterOrDigit));

    public static PdfTextLayer Read(byte[] data, ImageDecoder limits)
    {
        using var pdf = PdfFiles.Open(data);
        var count = PdfFiles.Read(() => pdf.NumberOfPages, 1);
        if (count == 0) throw Refusal.Of(Refusal.Corrupt, "The PDF has no pages.");
        limits.CheckPageCount(count);
        var texts = new string[count];
        var largest = 0.0;
        for (var number = 1; number <= count; number++)
        {
            (texts[number - 1], var area) = PdfFiles.Read(() =>
            {
                var page = pdf.GetPage(number);
                // A font may map a glyph to U+0000 (or half a surrogate pair), which PostgreSQL's text cannot hold: the
                // document would never get its text stored. Both are dropped.
                return (TextInput.ForDatabase(ContentOrderTextExtractor.GetText(page)), Math.Abs(page.Width * page.Height) / (72.0 * 72.0));
            }, number);
            largest = Math.Max(largest, area);
        }
        return new PdfTextLayer(texts, largest);
    }
}

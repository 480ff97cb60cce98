using Dsdc.ImageProcessing;
using Dsdc.Shared;

namespace Dsdc.Ocr;

/// <summary>What a PDF's text layer holds: each page's text, and the largest page, enough to decide between the text
/// layer and OCR and to choose OCR's resolution.</summary>
/// <param name="Cut">the text reached <see cref="PdfPages.MaxTextCharacters"/> and the rest was left unread</param>
internal sealed record PdfTextLayer(IReadOnlyList<string> PageTexts, double LargestPageSquareInches, bool Cut)
{
    /// <summary>Born-digital: every page carries text (or so much text was read that the rest was left unread). A scan
    /// with one typed cover page is OCR'd as a whole.</summary>
    public bool IsComplete => Cut || PageTexts.All(t => t.Any(char.IsLetterOrDigit));

    public static PdfTextLayer Read(PdfPages pdf, string path, CancellationToken ct)
    {
        var sizes = pdf.Sizes(path, ct);
        var (texts, cut) = pdf.Texts(path, sizes.Count, ct);
        // A font may map a glyph to U+0000 (or half a surrogate pair), which PostgreSQL's text cannot hold: the document
        // would never get its text stored. Both are dropped.
        return new PdfTextLayer(texts.Select(TextInput.ForDatabase).ToList(), sizes.Max(s => s.SquareInches), cut);
    }
}

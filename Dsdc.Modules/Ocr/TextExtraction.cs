using Dsdc.ImageProcessing;

namespace Dsdc.Ocr;

/// <summary>The text of every page of a document, and how it was obtained.</summary>
/// <param name="Method"><c>ocr</c>, or <c>pdf-text-layer</c> when a born-digital PDF carried its own text.</param>
public sealed record ExtractedText(string Text, string Method, string Processor, string ProcessorVersion, float? MeanConfidence)
{
    /// <summary>The pages read again in <see cref="OcrOptions.ExtraReadings"/>' modes, one reading after another, pages
    /// separated by form feeds; null when there are none (a PDF's own text layer, or none configured).</summary>
    public string? Readings { get; init; }
}

public interface ITextExtractor
{
    /// <summary>The OCR engine's name and version (with its settings) as recorded for OCR results; a PDF text layer
    /// records mutool instead. A change of <see cref="ProcessorVersion"/> means OCR results may differ.</summary>
    string Processor { get; }

    string ProcessorVersion { get; }

    /// <summary>Extracts the text of all pages. Safe to call from several threads at once.</summary>
    /// <exception cref="InvalidDocumentException">the document cannot be decoded.</exception>
    Task<ExtractedText> ExtractAsync(string path, DocumentFormat format, CancellationToken ct);
}

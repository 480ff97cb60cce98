namespace Dsdc.ImageProcessing;

/// <summary>The reason codes of <see cref="InvalidDocumentException"/>, with one place that words each message.</summary>
public static class Refusal
{
    public const string EmptyFile = "empty-file";
    public const string TooLarge = "too-large";
    public const string UnsupportedFormat = "unsupported-format";
    public const string Corrupt = "corrupt";
    public const string TooManyPixels = "too-many-pixels";
    public const string TooManyPages = "too-many-pages";
    public const string Encrypted = "encrypted";

    /// <summary>OCR gave up on a page or document: a page past <c>Ocr:PageTimeoutSeconds</c>, the document past
    /// <c>Ocr:DocumentTimeoutSeconds</c>, or Tesseract could not read a page.</summary>
    public const string OcrFailed = "ocr-failed";

    internal static InvalidDocumentException Of(string code, string message) => new(code, message);

    internal static InvalidDocumentException CorruptPage(DocumentFormat format, int page, string? detail = null) =>
        new(Corrupt, $"The {format} file cannot be decoded: page {page} is damaged or truncated{(detail is null ? "" : $" ({detail})")}.");
}

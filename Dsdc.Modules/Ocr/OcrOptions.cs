using System.ComponentModel.DataAnnotations;

namespace Dsdc.Ocr;

public sealed class OcrOptions : IValidatableObject
{
    public const string Section = "Ocr";

    /// <summary>Tesseract languages joined with '+', for example <c>eng</c> or <c>eng+fra</c>; each needs its traineddata.</summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression(@"^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$", ErrorMessage = "must be language codes joined with '+', e.g. eng or eng+fra")]
    public string Languages { get; set; } = "eng";

    /// <summary>The folder holding <c>*.traineddata</c>; empty = Tesseract's own default (Debian: /usr/share/tesseract-ocr/5/tessdata).</summary>
    public string? TessdataPath { get; set; }

    /// <summary>Engines, so pages OCR'd at once; each engine is used by one thread at a time. 0 = one per processor.</summary>
    [Range(0, 256)]
    public int MaxConcurrency { get; set; }

    /// <summary>Tesseract's page segmentation mode; 3 = fully automatic (its default), 6 = a single block of text.</summary>
    [Range(0, 13)]
    public int PageSegmentationMode { get; set; } = 3;

    /// <summary>
    /// Page segmentation modes in which every OCR'd page is read again, comma-separated (default <c>6,11</c>: the page as
    /// one block of text, and sparse text found anywhere); empty = one reading. The main reading
    /// (<see cref="PageSegmentationMode"/>) stays the document's text; the other readings are stored beside it and the
    /// classifier's text view reads them all: each reading makes different mistakes, so their character n-grams together
    /// recover more of the words (docs/benchmarks.md). Each reading costs about one more OCR of the page.
    /// </summary>
    [RegularExpression(@"^\s*([0-9]{1,2}\s*(,\s*[0-9]{1,2}\s*)*)?$", ErrorMessage = "must be page segmentation modes separated by commas, e.g. 6,11, or empty")]
    public string ExtraReadings { get; set; } = "6,11";

    /// <summary>The modes of <see cref="ExtraReadings"/>, in order, without repeats or the main mode.</summary>
    public IReadOnlyList<int> ExtraReadingModes => (ExtraReadings ?? "")
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(m => int.Parse(m, System.Globalization.CultureInfo.InvariantCulture))
        .Where(m => m != PageSegmentationMode).Distinct().ToList();

    /// <summary>Resolution at which PDF pages without a text layer are rendered for OCR (Tesseract is tuned for 300).</summary>
    [Range(72, 600)]
    public int PdfOcrDpi { get; set; } = 300;

    /// <summary>
    /// Raster pages below this resolution are scaled up to it (at most 4x) before OCR; their resolution is the file's, or
    /// the one a letter-sized page of that many pixels would have when the file declares none or too little. 0 = never.
    /// </summary>
    [Range(0, 600)]
    public int MinimumDpi { get; set; }

    /// <summary>How long Tesseract may spend on one page before the page (and so the document's OCR) fails. Tesseract's own
    /// deadline reaches its recognition only; a page still in its layout analysis at twice this is given up by the engine
    /// pool (the document fails at once; the engine's thread runs on until Tesseract returns).</summary>
    [Range(1, 3600)]
    public int PageTimeoutSeconds { get; set; } = 120;

    /// <summary>
    /// How long OCR may spend on one document, from the start of its extraction (reading the file, rendering PDF pages
    /// and every page's readings together; not the time spent waiting for an engine that other documents hold), before
    /// the document fails (reason <c>ocr-failed</c>,
    /// tried again up to <c>Pipeline:MaxAttempts</c> times like any failure of the stage); 0 = no bound. It is checked
    /// before each reading but the first, so a document can pass it by one reading (<see cref="PageTimeoutSeconds"/>),
    /// and for a PDF by the rendering of its next pages; a document whose last reading ends past it is kept. It keeps a
    /// document of hundreds of slow pages from holding a worker for hours: 300 pages read three times at the page
    /// deadline would be 30 hours. Seconds, fractions allowed.
    /// </summary>
    [Range(0.0, 86400.0)]
    public double DocumentTimeoutSeconds { get; set; } = 3600;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // 0 (orientation only) and 2 (layout only) read no text; 13 and above are not modes.
        if (!Validator.TryValidateProperty(ExtraReadings, new ValidationContext(this) { MemberName = nameof(ExtraReadings) }, null))
            yield break;
        var bad = ExtraReadingModes.FirstOrDefault(m => m is 0 or 2 or > 13, -1);
        if (bad >= 0)
            yield return new ValidationResult($"page segmentation mode {bad} reads no text (use modes 1 and 3 to 13)", [nameof(ExtraReadings)]);
    }

    public int EffectiveConcurrency => MaxConcurrency > 0 ? MaxConcurrency : Environment.ProcessorCount;
}

using System.ComponentModel.DataAnnotations;

namespace Dsdc.Ocr;

public sealed class OcrOptions
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

    /// <summary>Resolution at which PDF pages without a text layer are rendered for OCR (Tesseract is tuned for 300).</summary>
    [Range(72, 600)]
    public int PdfOcrDpi { get; set; } = 300;

    /// <summary>
    /// Raster pages below this resolution are scaled up to it (at most 4x) before OCR; their resolution is the file's, or
    /// the one a letter-sized page of that many pixels would have when the file declares none or too little. 0 = never.
    /// </summary>
    [Range(0, 600)]
    public int MinimumDpi { get; set; }

    /// <summary>How long Tesseract may spend on one page before the page (and so the document's OCR) fails.</summary>
    [Range(1, 3600)]
    public int PageTimeoutSeconds { get; set; } = 120;

    public int EffectiveConcurrency => MaxConcurrency > 0 ? MaxConcurrency : Environment.ProcessorCount;
}

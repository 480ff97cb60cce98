namespace Dsdc.Training;

/// <summary>
/// Everything the views of a model read from one document: the encoder's vector, the raw OCR text (before cleaning:
/// its numbers, punctuation and OCR noise carry layout and genre cues) and the page layout thumbnail.
/// Training builds it from the stored lineage, serving from the file being classified, through the same code.
/// </summary>
public sealed record PageInputs(float[] Vector, string RawText, float[] Layout)
{
    /// <summary>ResNet18 features of the page's regions (<c>embedding.page_features</c> kind <c>regions</c>); null when not computed.</summary>
    public float[]? Regions { get; init; }

    /// <summary>How many of <see cref="Vector"/>'s values are the image part (the rest is the text part); 0 = unknown.</summary>
    public int ImageDimensions { get; init; }

    /// <summary>The page's extra OCR readings (<c>Ocr:ExtraReadings</c>), null when there are none.</summary>
    public string? Readings { get; init; }

    /// <summary>The raw text and its extra readings together: what the <see cref="ViewKinds.Readings"/> view reads.</summary>
    public string AllReadings => Readings is { Length: > 0 } more ? RawText + "\f" + more : RawText;

    /// <summary>The first lines of the raw text that carry a letter or digit: a letterhead, a memo's TO/FROM block, a form's title.</summary>
    public string Header => string.Join('\n', RawText.Split('\n').Where(l => l.Any(char.IsLetterOrDigit)).Take(HeaderLines));

    public const int HeaderLines = 10;
}

namespace Dsdc.Training;

/// <summary>
/// Everything the views of a model read from one document: the encoder's vector, the raw OCR text (before cleaning:
/// its numbers, punctuation and OCR noise carry layout and genre cues) and the page layout thumbnail.
/// Training builds it from the stored lineage, serving from the file being classified, through the same code.
/// </summary>
public sealed record PageInputs
{
    private Lazy<float[]> _layout;

    public PageInputs(float[] vector, string rawText, float[] layout) : this(vector, rawText, new Lazy<float[]>(layout)) { }

    /// <summary>
    /// Inputs whose layout is read on first use (<paramref name="layout"/> runs at most once): training reads it from the
    /// processed page on disk, and only a model with a layout view needs it. A job whose candidates read no layout, or
    /// that skips because nothing changed, decodes no page.
    /// </summary>
    public PageInputs(float[] vector, string rawText, Func<float[]> layout) : this(vector, rawText, new Lazy<float[]>(layout)) { }

    private PageInputs(float[] vector, string rawText, Lazy<float[]> layout)
    {
        Vector = vector;
        RawText = rawText;
        _layout = layout;
    }

    /// <summary>The encoder's vector of the page (its image part, then its text part).</summary>
    public float[] Vector { get; init; }

    /// <summary>The raw OCR text (the main reading).</summary>
    public string RawText { get; init; }

    /// <summary>The page layout thumbnail (<see cref="PageLayout"/>), read on first use when the inputs were built with a reader.</summary>
    public float[] Layout { get => _layout.Value; init => _layout = new Lazy<float[]>(value); }

    /// <summary>Whether <see cref="Layout"/> has been read (tests: a job whose candidates read no layout decodes no page).</summary>
    internal bool LayoutRead => _layout.IsValueCreated;

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

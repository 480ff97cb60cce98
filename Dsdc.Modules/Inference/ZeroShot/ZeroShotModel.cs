using System.Text.RegularExpressions;
using Dsdc.Embedding;
using Dsdc.Shared;
using Dsdc.Training;

namespace Dsdc.Inference;

/// <summary>
/// The model served before any training (cold start): what each of the 16 classes is, written here from the classes'
/// definitions and never fitted to data. Its cues, added as logits:
/// the cosine between the page's text embedding (the encoder's text part) and a short description of each class, when
/// the page has enough recognisable words for the embedding to mean something;
/// cue words and phrases of each class found in the raw OCR text or any of its extra readings (a memo's
/// "TO:/FROM:/SUBJECT:", an invoice's "invoice no", a resume's "education"...; a cue misread in one reading is often
/// read right in another);
/// the page's look from its ink grid (solid dark areas are pictures or display type: advertisements, some slides; a
/// page without readable text is a folder's tab when nearly blank, handwriting when inked, a picture when dark);
/// and the shape of its text (mostly figures: budgets and invoices; short lines: slides; several questions: a
/// questionnaire). Its confidences are not calibrated: every prediction it makes needs review.
/// </summary>
public sealed partial class ZeroShotModel
{
    /// <summary>
    /// The model id its answers are recorded under, with its version (the cues' fifth writing: 4 looked for the cue words
    /// in every OCR reading, 5 finds a cue that ends in a symbol, such as the "@" of an address, beside a letter). A new
    /// version gets a new id, so the unlabelled documents the earlier version answered are answered again once
    /// (<see cref="Review.NewDocumentPredictions"/> predicts once per model id) and the review queue reads today's answers.
    /// </summary>
    public const string Id = "zero-shot-v5";

    /// <summary>Class index -> what a page of that class is, in words a sentence encoder relates to page text.</summary>
    internal static readonly string[] Descriptions =
    [
        "A business letter: Dear Sir or Madam, a letterhead, the date, the recipient's address, paragraphs, Sincerely yours and a signature.",
        "A form: blank fields to fill in, boxes to check, name, address, date, signature lines, and a form number.",
        "An email message: From, Sent, To, Cc, Subject lines, an email address with @, Re: and Fw:, a short message.",
        "A handwritten note or page: words written by hand, few typed words.",
        "An advertisement: a product promotion, brand names, slogans, new, free offers, buy now, prices and large display text.",
        "A scientific report: a study's introduction, methods, results and conclusions, tables and data from a laboratory or research project.",
        "A scientific publication: a journal article with authors, abstract, keywords, introduction, methods, discussion and references.",
        "A specification: technical specifications, product requirements, test methods, tolerances, materials, parameters and standards.",
        "A file folder: the cover or tab of a file folder with a label, a name or a number, and almost no other text.",
        "A news article: a newspaper or magazine story with a headline, columns, reporters, quotes and said.",
        "A budget: a financial plan with line items, expenses, totals, cost estimates, fiscal year and amounts in columns.",
        "An invoice: a bill for goods or services with invoice number, date, quantity, unit price, amount due, total and payment terms.",
        "A presentation slide: a title and short bullet points, an overview, objectives, agenda and key points.",
        "A questionnaire or survey: numbered questions, answer choices, yes or no, please circle or check one, rate from 1 to 5.",
        "A resume or curriculum vitae: a person's name, education, degrees, professional experience, employment history, publications and references.",
        "A memorandum: MEMORANDUM, TO, FROM, DATE, SUBJECT or RE lines, and a short internal message.",
    ];

    /// <summary>Weights of the cues in the logits (the scales of a cosine, a log count of distinct cue words, and flags),
    /// set by hand, never fitted. Each class has about eight cue words, so no class gains from having more of them.</summary>
    private const double SemanticScale = 20, CueScale = 2.0, LittleTextScale = 2.5, PictureScale = 2.5, ShapeScale = 1.0;

    /// <summary>Below this many recognisable words the page's text embedding is not compared with the descriptions.</summary>
    private const int MinWordsForMeaning = 15;

    /// <summary>The look and shape thresholds: share of solid dark grid cells for a full picture cue, mean ink of a
    /// nearly blank page and of a picture, share of figures among letters and digits, mean characters per line of a
    /// slide, questions of a questionnaire.</summary>
    private const double FullPictureShare = 0.2, BlankInk = 0.03, PictureInk = 0.15, FigureShare = 0.2, SlideLineLength = 20;
    private const int QuestionMarks = 3;

    private const int Handwritten = 3, Advertisement = 4, FileFolder = 8, Budget = 10, Invoice = 11, Presentation = 12, Questionnaire = 13;

    private readonly float[][] _descriptions;
    private readonly Regex[][] _cues;

    public ZeroShotModel(IDocumentEncoder encoder)
    {
        _descriptions = encoder.EmbedTexts(Descriptions).ToArray();
        // Each class's cue words (DocumentCues), looked for in the raw OCR text and its extra readings.
        _cues = DocumentCues.ByClass.Select(words => words.Select(DocumentCues.Pattern).ToArray()).ToArray();
    }

    public float[] Predict(PageInputs page) => Stacking.Softmax(Logits(page), Enumerable.Repeat(true, DocumentClasses.Count).ToArray());

    public double[] Logits(PageInputs page)
    {
        var logits = new double[DocumentClasses.Count];
        var text = page.RawText ?? "";
        var words = Words().Matches(text).Count;

        // What the page says, when it says enough for a sentence encoder to read: below MinWordsForMeaning recognisable
        // words (a folder's tab, a photograph, handwriting OCR cannot read) the embedding is of noise.
        var sentence = page.ImageDimensions > 0 ? page.Vector[page.ImageDimensions..] : null;
        if (words >= MinWordsForMeaning && sentence is { Length: > 0 } && sentence.Length == _descriptions[0].Length)
            for (var c = 0; c < logits.Length; c++) logits[c] += SemanticScale * Dot(sentence, _descriptions[c]);

        // The cues are looked for in every OCR reading of the page (Ocr:ExtraReadings); the amount and shape of the text
        // are the main reading's.
        var readings = page.AllReadings ?? "";
        for (var c = 0; c < logits.Length; c++)
        {
            var distinct = _cues[c].Count(r => r.IsMatch(readings));
            logits[c] += CueScale * Math.Log(1 + distinct);
        }

        // The page's look (its 32x32 ink grid): large solid dark areas are pictures or display type, which an
        // advertisement is made of (and some slides); a page with little readable text is a folder's tab when it is
        // mostly blank, handwriting when it carries ink, a picture when it is dark.
        var layout = page.Layout is { Length: PageLayout.Dimensions } grid ? grid : null;
        if (layout is not null)
        {
            var picture = Math.Min(1, layout.Count(x => x > 0.5f) / (double)layout.Length / FullPictureShare);
            logits[Advertisement] += PictureScale * picture;
            logits[Presentation] += PictureScale / 2 * picture;
        }
        if (words < MinWordsForMeaning)
        {
            var ink = layout?.Average() ?? (BlankInk + PictureInk) / 2;
            var (first, second) = ink < BlankInk ? (FileFolder, Handwritten) : ink < PictureInk ? (Handwritten, FileFolder) : (Advertisement, Handwritten);
            logits[first] += LittleTextScale;
            logits[second] += LittleTextScale / 2;
        }
        else if (words < 40) logits[Handwritten] += LittleTextScale / 2;

        // Shape of the text: mostly figures (a budget's or an invoice's amounts), short lines (a slide's bullet points).
        if (words >= MinWordsForMeaning)
        {
            int letters = text.Count(char.IsLetter), digits = text.Count(char.IsDigit);
            var digitShare = digits / (double)Math.Max(1, letters + digits);
            if (digitShare > FigureShare)
            {
                logits[Budget] += ShapeScale;
                logits[Invoice] += ShapeScale / 2;
            }
            var lines = text.Split('\n').Where(l => l.Any(char.IsLetterOrDigit)).ToList();
            if (lines.Average(l => l.Trim().Length) < SlideLineLength) logits[Presentation] += ShapeScale;
            if (text.Count(ch => ch == '?') >= QuestionMarks) logits[Questionnaire] += ShapeScale;
        }
        return logits;
    }

    private static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Dictionary-like words: three or more letters.</summary>
    [GeneratedRegex("[A-Za-z]{3,}")]
    private static partial Regex Words();
}

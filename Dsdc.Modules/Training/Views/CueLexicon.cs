using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dsdc.Training;

/// <summary>
/// The words and phrases that mark each of the 16 classes (a letter's "dear" and "sincerely", a memo's "to:" and
/// "subject:", an invoice's "amount due"...), written by hand from what the classes are and never fitted to data (the
/// development half of the shared documents guided some choices: docs/benchmarks.md, "Zero-shot"). The
/// zero-shot model adds them to its logits with fixed weights; the <see cref="ViewKinds.Cues"/> view of the fused recipes
/// lets a ridge learn their weights from the labels.
/// </summary>
public static class DocumentCues
{
    /// <summary>Class index -> cue words and phrases (lowercase; matched on word boundaries, see <see cref="Pattern"/>).</summary>
    public static readonly IReadOnlyList<IReadOnlyList<string>> ByClass =
    [
        ["dear", "sincerely", "yours truly", "very truly yours", "cordially", "best regards", "enclosed please find", "thank you for your letter"],
        ["please print", "signature", "date of birth", "check one", "social security", "applicant", "approved by", "form no", "facsimile", "fax"],
        ["sent:", "subject:", "cc:", "fw:", "e-mail", "email", "@", "original message"],
        [],
        ["free", "offer", "save", "buy", "taste", "flavor", "enjoy", "introducing", "limited time"],
        ["objective", "conclusions", "experimental", "procedure", "samples", "analysis", "summary of results", "study"],
        ["abstract", "references", "journal", "et al", "keywords", "vol", "pp", "introduction"],
        ["specification", "specifications", "requirements", "tolerance", "test method", "minimum", "maximum", "parameters"],
        ["file", "folder", "files"],
        ["said", "reported", "according to", "newspaper", "press", "yesterday", "reporter", "editor"],
        ["budget", "expenses", "fiscal", "estimated", "actual", "variance", "salaries", "projected"],
        ["invoice", "bill to", "remit", "amount due", "total due", "qty", "quantity", "unit price", "balance due", "terms"],
        ["presentation", "overview", "objectives", "agenda", "next steps", "recommendations", "strategy", "issues"],
        ["questionnaire", "survey", "please circle", "please check", "how often", "agree", "disagree", "questions"],
        ["resume", "curriculum vitae", "education", "experience", "employment", "degree", "born", "publications"],
        ["memorandum", "memo", "to:", "from:", "date:", "subject:", "re:", "interoffice", "inter-office", "internal correspondence"],
    ];

    /// <summary>
    /// A cue as a case-insensitive pattern that does not match inside a longer word: a cue that begins (ends) with a
    /// letter or digit must not follow (be followed by) one. A cue that begins or ends with a symbol ("@" of an address
    /// such as jsmith@example.com, the colon of "to:") is not bounded on that side.
    /// </summary>
    public static Regex Pattern(string cue) => new(PatternText(cue), Options);

    /// <summary>The pattern of <see cref="Pattern"/> as text, to build a longer pattern around.</summary>
    public static string PatternText(string cue)
    {
        var before = char.IsLetterOrDigit(cue[0]) ? "(?<![a-z0-9])" : "";
        var after = char.IsLetterOrDigit(cue[^1]) ? "(?![a-z0-9])" : "";
        return $"{before}{Regex.Escape(cue)}{after}";
    }

    internal const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled;
}

/// <summary>
/// The features of the cues view: for each cue of a lexicon, log(1 + its matches in every OCR reading of the page), whether
/// it is in the first <see cref="HeadLines"/> lines of the main reading that hold a letter, and log(1 + its matches at the
/// start of a line (after at most three symbols or spaces: a salutation, a memo's "TO:" line; each reading starts a line)).
/// The lexicon travels with a trained model (its feature file), so a model keeps reading the cues it was trained on
/// whatever the code's lexicon becomes.
/// </summary>
public sealed class CueLexicon : IViewFeatureState
{
    /// <summary>
    /// The version of the features computed from a lexicon (what is counted, where, how), saved with it: a model saved with
    /// another version is refused at load (it would be served features it was not trained on). Change it with
    /// <see cref="Compute"/>.
    /// </summary>
    public const int FeaturesVersion = 1;

    public const int HeadLines = 5;
    private const int PerCue = 3;

    private readonly Regex[] _anywhere;
    private readonly Regex[] _lineStart;

    /// <summary>Each page's features, computed once per lexicon while the page lives: cross-validation fits the view on
    /// the same pages once per fold.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<PageInputs, float[]> _rows = new();

    public CueLexicon(IReadOnlyList<string> cues)
    {
        if (cues.Count == 0) throw new ArgumentException("a cue lexicon needs at least one cue", nameof(cues));
        if (cues.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("a cue cannot be empty", nameof(cues));
        Cues = cues;
        _anywhere = cues.Select(DocumentCues.Pattern).ToArray();
        _lineStart = cues.Select(c => new Regex(@"(?m)^[^a-z0-9\n]{0,3}" + DocumentCues.PatternText(c), DocumentCues.Options)).ToArray();
    }

    /// <summary>Every class's cues, each once, in class order: the lexicon a new model is trained with.</summary>
    public static CueLexicon Default { get; } = new(DocumentCues.ByClass.SelectMany(c => c).Distinct().ToList());

    public IReadOnlyList<string> Cues { get; }

    public int Dimensions => PerCue * Cues.Count;

    public string FileSuffix => "lexicon";

    /// <summary>The page's features (a copy: the caller may change it).</summary>
    public float[] Transform(PageInputs page) => (float[])_rows.GetValue(page, Compute).Clone();

    private float[] Compute(PageInputs page)
    {
        var all = page.AllReadings ?? "";
        // Each reading begins a line (the readings are joined by form feeds).
        var lines = all.Replace('\f', '\n');
        var head = string.Join('\n', (page.RawText ?? "").Split('\n').Where(l => l.Any(char.IsLetter)).Take(HeadLines));
        var f = new float[Dimensions];
        for (var i = 0; i < Cues.Count; i++)
        {
            f[PerCue * i] = (float)Math.Log(1 + _anywhere[i].Count(all));
            f[PerCue * i + 1] = _anywhere[i].IsMatch(head) ? 1 : 0;
            f[PerCue * i + 2] = (float)Math.Log(1 + _lineStart[i].Count(lines));
        }
        return f;
    }

    public string ToJson() => JsonSerializer.Serialize(new { version = FeaturesVersion, cues = Cues });

    /// <summary>A saved lexicon; <see cref="InvalidDataException"/> when the file is not one this version can serve.</summary>
    public static CueLexicon FromJson(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cues", out var cues) || cues.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException("a cue lexicon file lists its cues under \"cues\"");
            var version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : 0;
            if (version != FeaturesVersion)
                throw new InvalidDataException($"the cue lexicon's features are version {version}; this version of DSDC computes version {FeaturesVersion}");
            return new CueLexicon(cues.EnumerateArray()
                .Select(c => c.ValueKind == JsonValueKind.String ? c.GetString()! : throw new InvalidDataException("a cue is a string")).ToList());
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"not a cue lexicon: {ex.Message}", ex);
        }
    }

    /// <summary>What identifies the features of the lexicon new models are trained with: a training job whose plan has the
    /// cues view trains again when a new version changes them.</summary>
    public static string DefaultFingerprint => $"cues v{FeaturesVersion}: {string.Join('|', Default.Cues)}";
}

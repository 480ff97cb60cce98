using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dsdc.Training;

/// <summary>
/// TF-IDF over the raw OCR text, robust to OCR noise: lowercased, every run of letters or digits a token (digits folded
/// to 0, so dates and amounts match each other), word unigrams and bigrams plus character 3-5-grams inside
/// space-padded words (scikit-learn's char_wb). Vocabulary: the <see cref="MaxTerms"/> terms with the highest
/// document frequency (at least 2) among the training documents; sublinear tf, smooth idf, L2-normalised rows.
/// Saved with the model (vocabulary and idf), so serving computes exactly the features the model was trained on.
/// </summary>
public sealed class RawTextTfidf : IViewFeatureState
{
    public const int MaxTerms = 20_000;

    /// <summary>The smallest document frequency a term needs: 2, or 1 on fewer than 40 training documents, where a
    /// term seen once is most of what a class has.</summary>
    public static int MinDocumentFrequencyFor(int trainingDocuments) => trainingDocuments < 40 ? 1 : 2;
    private readonly Dictionary<string, int> _index;

    [JsonConstructor]
    public RawTextTfidf(IReadOnlyList<string> terms, IReadOnlyList<float> idf)
    {
        if (terms.Count != idf.Count) throw new InvalidDataException($"{terms.Count} terms but {idf.Count} idf weights");
        Terms = terms;
        Idf = idf;
        _index = terms.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
    }

    [JsonPropertyName("terms")] public IReadOnlyList<string> Terms { get; }
    [JsonPropertyName("idf")] public IReadOnlyList<float> Idf { get; }
    [JsonIgnore] public int Dimensions => Terms.Count;

    [JsonIgnore] public string FileSuffix => "tfidf";

    public static RawTextTfidf Fit(IEnumerable<string> trainingTexts, int maxTerms = MaxTerms, int minDocumentFrequency = 2) =>
        FitTerms(trainingTexts.Select(t => Terms_(t)), maxTerms, minDocumentFrequency);

    /// <summary>The vocabulary and idf over training documents already cut into terms (by <see cref="Terms_"/>, or by
    /// another tokenisation that a benchmark compares).</summary>
    internal static RawTextTfidf FitTerms(IEnumerable<IEnumerable<string>> trainingDocuments, int maxTerms, int minDocumentFrequency)
    {
        var docs = trainingDocuments.Select(d => d.Distinct(StringComparer.Ordinal).ToList()).ToList();
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var term in docs.SelectMany(d => d)) df[term] = df.GetValueOrDefault(term) + 1;
        var terms = df.Where(kv => kv.Value >= minDocumentFrequency).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(maxTerms).Select(kv => kv.Key).ToList();
        var idf = terms.Select(t => (float)(Math.Log((1.0 + docs.Count) / (1.0 + df[t])) + 1)).ToList();
        return new RawTextTfidf(terms, idf);
    }

    public float[] Transform(string? text) => TransformTerms(Terms_(text ?? ""));

    /// <summary>The row of a document already cut into terms (by <see cref="Terms_"/>, or by the tokenisation the
    /// vocabulary was fitted on with <see cref="FitTerms"/>).</summary>
    internal float[] TransformTerms(IEnumerable<string> terms)
    {
        var v = new float[Terms.Count];
        foreach (var group in terms.GroupBy(t => t, StringComparer.Ordinal))
            if (_index.TryGetValue(group.Key, out var i))
                v[i] = (float)(1 + Math.Log(group.Count())) * Idf[i];
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        if (norm > 0)
            for (var i = 0; i < v.Length; i++) v[i] /= norm;
        return v;
    }

    public string ToJson() => JsonSerializer.Serialize(this);

    public static RawTextTfidf FromJson(string json) =>
        JsonSerializer.Deserialize<RawTextTfidf>(json) ?? throw new InvalidDataException("empty TF-IDF vocabulary");

    internal static IEnumerable<string> Terms_(string text)
    {
        var words = Words(text);
        for (var i = 0; i < words.Count; i++)
        {
            if (words[i].Length >= 2) yield return "w:" + words[i];
            if (i > 0) yield return "b:" + words[i - 1] + " " + words[i];
            var padded = " " + words[i] + " ";
            for (var n = 3; n <= 5; n++)
                for (var s = 0; s + n <= padded.Length; s++)
                    yield return "c:" + padded.Substring(s, n);
        }
    }

    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var ch in text)
        {
            if (char.IsLetterOrDigit(ch)) current.Append(char.IsDigit(ch) ? '0' : char.ToLowerInvariant(ch));
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
        if (current.Length > 0) words.Add(current.ToString());
        return words;
    }
}

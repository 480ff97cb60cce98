namespace Dsdc.Training;

/// <summary>
/// TF-IDF over the cleaned OCR text (words are already lowercased, stop words removed): vocabulary = the
/// <c>maxTerms</c> most frequent terms (document frequency >= 2) of the training documents only, sublinear tf,
/// smooth idf, L2-normalised rows, as scikit-learn's TfidfVectorizer(sublinear_tf=True) computes them.
/// </summary>
public sealed class TfidfFeatures
{
    private readonly Dictionary<string, int> _index;
    private readonly float[] _idf;

    private TfidfFeatures(Dictionary<string, int> index, float[] idf) => (_index, _idf) = (index, idf);

    public int Dimensions => _idf.Length;

    public static TfidfFeatures Fit(IEnumerable<string> trainingTexts, int maxTerms = 2000)
    {
        var docs = trainingTexts.Select(Tokens).Select(t => t.Distinct().ToList()).ToList();
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var term in docs.SelectMany(d => d)) df[term] = df.GetValueOrDefault(term) + 1;
        var terms = df.Where(kv => kv.Value >= 2).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(maxTerms).Select(kv => kv.Key).ToList();
        var index = terms.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        var idf = terms.Select(t => (float)(Math.Log((1.0 + docs.Count) / (1.0 + df[t])) + 1)).ToArray();
        return new TfidfFeatures(index, idf);
    }

    public float[] Transform(string? text)
    {
        var v = new float[_idf.Length];
        foreach (var group in Tokens(text ?? "").GroupBy(t => t, StringComparer.Ordinal))
            if (_index.TryGetValue(group.Key, out var i))
                v[i] = (float)(1 + Math.Log(group.Count())) * _idf[i];
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        if (norm > 0)
            for (var i = 0; i < v.Length; i++) v[i] /= norm;
        return v;
    }

    private static string[] Tokens(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

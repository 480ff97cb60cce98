namespace Dsdc.Inference;

/// <summary>
/// A prediction. <see cref="Confidence"/> is the original's entropy-based score, 1 - H(p) / ln(16) (1 = certain,
/// 0 = uniform); <see cref="TopProbability"/> is the winning class's probability.
/// </summary>
public sealed record Classification(
    int Label,
    string ClassName,
    IReadOnlyList<float> Probabilities,
    double Confidence,
    double TopProbability,
    string ModelId,
    long ModelRunId,
    IReadOnlyDictionary<string, double> TimingsMs)
{
    /// <summary>The encoder's vector of the document (file classifications only), for similar-document search.</summary>
    public float[]? Embedding { get; init; }

    /// <summary>What inspecting the file found (file classifications only), so callers need not inspect it again.</summary>
    public Dsdc.ImageProcessing.DocumentInfo? Document { get; init; }
}

/// <summary>No model has been promoted yet (or its files cannot be loaded): the API answers 503.</summary>
public sealed class NoModelException(string message) : Exception(message);

public static class Confidence
{
    public static double Entropy(IReadOnlyList<float> probabilities)
    {
        var h = 0.0;
        foreach (var p in probabilities)
            if (p > 0) h -= p * Math.Log(p);
        return Math.Clamp(1 - h / Math.Log(probabilities.Count), 0, 1);
    }
}

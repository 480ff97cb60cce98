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
    long? ModelRunId,
    IReadOnlyDictionary<string, double> TimingsMs)
{
    /// <summary>
    /// True when the calibrated probability of the predicted class is below the served model's review threshold (the
    /// confidence at which its cross-validated predictions reach the target accuracy), and always for the zero-shot model.
    /// </summary>
    public bool NeedsReview { get; init; }

    /// <summary>The threshold <see cref="NeedsReview"/> was decided with; null for the zero-shot model.</summary>
    public double? ReviewThreshold { get; init; }

    /// <summary>True when no trained model exists yet and the zero-shot model answered.</summary>
    public bool ZeroShot { get; init; }

    /// <summary>The classes the answering model can predict (all 16 for the zero-shot model).</summary>
    public IReadOnlyList<int> KnownClasses { get; init; } = [];

    /// <summary>The encoder's vector of the document (file classifications only), for similar-document search.</summary>
    public float[]? Embedding { get; init; }

    /// <summary>What inspecting the file found (file classifications only), so callers need not inspect it again.</summary>
    public Dsdc.ImageProcessing.DocumentInfo? Document { get; init; }

    /// <summary>What each step made for the file, with its processor name and version (file classifications only).</summary>
    public Dsdc.Pipeline.ProcessedDocument? Processed { get; init; }
}

/// <summary>No model can answer (no champion, and the zero-shot model is switched off): the API answers 503.</summary>
/// <summary>Nothing can classify now: no champion is served and the zero-shot model is off or cannot be built. The message says which.</summary>
public sealed class NoModelException(string message, Exception? inner = null) : Exception(message, inner);

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

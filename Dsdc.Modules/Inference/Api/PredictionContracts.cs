using System.ComponentModel.DataAnnotations;
using Dsdc.Embedding;

namespace Dsdc.Inference.Api;

/// <summary>The answer of <c>POST /api/v1/predict</c>.</summary>
/// <param name="Confidence">The original's entropy-based score: 1 - H(p)/ln 16 (1 = certain, 0 = uniform).</param>
/// <param name="TopProbability">The probability of the predicted class.</param>
public sealed record PredictionResponse(
    int Label,
    string ClassName,
    IReadOnlyList<float> Probabilities,
    double Confidence,
    double TopProbability,
    string ModelId,
    string DocumentId,
    long PredictionId,
    IReadOnlyList<SimilarDocument> SimilarDocuments,
    IReadOnlyDictionary<string, double> TimingsMs);

public sealed record LabelRequest([property: Required, Range(0, 15)] int? Label);

public sealed record LabelResponse(string DocumentId, int Label, string ClassName, string Source, string? CreatedBy, DateTime CreatedAt);

public sealed record StatusResponse(string Status, string Version, long? ModelRunId, string Encoder, string EncoderVersion, int Dimensions);

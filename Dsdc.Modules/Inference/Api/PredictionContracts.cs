using System.ComponentModel.DataAnnotations;
using Dsdc.Embedding;
using Dsdc.Ingestion;
using Dsdc.Shared;

namespace Dsdc.Inference.Api;

/// <summary>The answer of <c>POST /api/v1/predict</c>.</summary>
/// <param name="Confidence">The original's entropy-based score: 1 - H(p)/ln 16 (1 = certain, 0 = uniform).</param>
/// <param name="TopProbability">The (calibrated) probability of the predicted class.</param>
/// <param name="NeedsReview">True when <paramref name="TopProbability"/> is below the model's review threshold (the
/// confidence at which its cross-validated predictions reach the target accuracy), and always for the zero-shot model.</param>
/// <param name="ZeroShot">True when no trained model exists yet and the zero-shot model answered.</param>
/// <param name="KnownClasses">The classes the answering model can predict; the others have probability 0.</param>
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
    IReadOnlyDictionary<string, double> TimingsMs,
    bool NeedsReview,
    bool ZeroShot,
    IReadOnlyList<string> KnownClasses);

/// <summary>The body of <c>POST /api/v1/documents/{id}/label</c>; its attributes are enforced (400 ValidationProblem).</summary>
public sealed record LabelRequest([property: Required, Range(0, DocumentClasses.Count - 1)] int? Label);

/// <summary>A document's current label (<c>GET</c> and <c>POST /api/v1/documents/{id}/label</c>).</summary>
/// <param name="Source"><c>human</c> (a person's) or <c>dataset</c> (from a <c>label.txt</c> or an import).</param>
/// <param name="Etag">The label's version, also sent as the response's <c>ETag</c> header: sent back in <c>If-Match</c>, a
/// correction is written only while the label is still this one (<see cref="LabelVersions"/>).</param>
public sealed record LabelResponse(string DocumentId, int Label, string ClassName, string Source, string? CreatedBy, DateTime CreatedAt, string Etag)
{
    public static LabelResponse Of(string documentId, LabelEntry label) =>
        new(documentId, label.Label, DocumentClasses.NameOf(label.Label), label.Source, label.CreatedBy, label.CreatedAt, LabelVersions.ETag(label));
}

/// <summary>The answer of <c>GET /api/v1/documents/{id}</c>: a stored document, how far the pipeline took it, its current
/// label and its newest prediction.</summary>
/// <param name="Stages">The pipeline's stages (image, OCR, text, embedding) as for an upload batch.</param>
/// <param name="Label">The current label (a person's wins over the dataset's), null when it has none.</param>
/// <param name="Prediction">The newest recorded prediction, null when none was made.</param>
public sealed record DocumentResponse(string DocumentId, string OriginalName, string MediaType, long FileSize, int PageCount, int Width,
    int Height, DateTime IngestedAt, Dsdc.Pipeline.DocumentStages? Stages, LabelResponse? Label, DocumentPrediction? Prediction);

/// <summary>A recorded prediction of a stored document.</summary>
/// <param name="ModelRunId">The training run of the model that answered; null for the zero-shot model.</param>
/// <param name="NeedsReview">As in <see cref="PredictionResponse.NeedsReview"/>, judged when it was made.</param>
public sealed record DocumentPrediction(long PredictionId, int Label, string ClassName, double TopProbability, double Confidence,
    bool NeedsReview, string ModelId, long? ModelRunId, DateTime CreatedAt, IReadOnlyList<float> Probabilities)
{
    public static DocumentPrediction Of(PredictionDetail p) =>
        new(p.Id, p.Label, DocumentClasses.NameOf(p.Label), p.TopProbability, p.Confidence, p.NeedsReview, p.ModelId, p.ModelRunId,
            p.CreatedAt, p.Probabilities);
}

/// <summary>The answer of <c>GET /api/v1/status</c>.</summary>
/// <param name="Status"><c>ready</c> (a trained model serves), <c>zero-shot</c> (no trained model yet: the zero-shot model
/// answers) or <c>no-model</c> (neither).</param>
/// <param name="TrainedModel">Whether a trained model exists and serves.</param>
/// <param name="Message">In plain words what serves and how sure it is.</param>
/// <param name="KnownClasses">The classes the serving model can predict.</param>
/// <param name="Estimate">The served model's cross-validated estimate (mean, spread, calibration), when it has one.</param>
public sealed record StatusResponse(string Status, string Version, long? ModelRunId, string Encoder, string EncoderVersion, int Dimensions,
    bool TrainedModel, string Message, IReadOnlyList<string> KnownClasses, double? ReviewThreshold, Dsdc.Training.CvEstimate? Estimate);

/// <summary>The answer of <c>GET /api/v1/review</c>: the review queue's first documents, in the web page's order.</summary>
/// <param name="Waiting">How many documents wait in the queue in all.</param>
public sealed record ReviewResponse(long Waiting, IReadOnlyList<ReviewEntry> Documents);

/// <summary>A document waiting for a person's decision.</summary>
/// <param name="Top">The newest prediction's most probable classes (at most 3, only classes its model can predict).</param>
/// <param name="LabelEtag">The current label's version: send it in <c>If-Match</c> to replace that label, or
/// <c>If-None-Match: *</c> when the document has none, so that a colleague's decision meanwhile is not written over.</param>
public sealed record ReviewEntry(string DocumentId, string OriginalName, DateTime IngestedAt, long? PredictionId, int? Predicted,
    string? PredictedClass, double? TopProbability, bool NeedsReview, IReadOnlyList<ClassProbability> Top, int? CurrentLabel,
    string? CurrentClass, string? LabelSource, string? LabelEtag);

public sealed record ClassProbability(int Label, string ClassName, double Probability);

/// <summary>The answer of <c>GET /api/v1/documents</c>: a page of the stored documents, newest first.</summary>
/// <param name="Page">The page's number when it was asked for by number; null when asked for with <c>after</c>.</param>
/// <param name="More">Whether a next page exists.</param>
/// <param name="Next">While <paramref name="More"/>: the <c>after</c> value that asks for the next page (it neither repeats
/// nor skips a document when newer ones are stored meanwhile, as page numbers do); otherwise null.</param>
public sealed record DocumentsPage(int? Page, int PageSize, bool More, IReadOnlyList<DocumentsPageEntry> Documents, string? Next);

/// <summary>A stored document in a page of the list (its label named as in <see cref="ReviewEntry"/>).</summary>
/// <param name="Processed">Every pipeline stage done; <paramref name="Failed"/>: a stage failed (it tries again).</param>
/// <param name="LabelEtag">The current label's version, for <c>If-Match</c> on a correction.</param>
/// <param name="PredictedConfidence">The newest prediction's confidence (1 - H(p)/ln 16), as the document page shows it.</param>
public sealed record DocumentsPageEntry(string DocumentId, string OriginalName, string MediaType, DateTime IngestedAt, bool Processed,
    bool Failed, int? CurrentLabel, string? CurrentClass, string? LabelSource, string? LabelEtag, int? Predicted, string? PredictedClass,
    double? PredictedConfidence)
{
    public static DocumentsPageEntry Of(DocumentListItem d) => new(d.Id, d.OriginalName, d.MediaType, d.IngestedAt,
        d.HasImage && d.HasOcr && d.HasText && d.HasEmbedding, d.HasFailure, d.Label, d.Label is { } l ? DocumentClasses.NameOf(l) : null,
        d.LabelSource, d is { Label: { } label, LabelId: { } id } ? LabelVersions.ETag(id, label) : null,
        d.PredictedLabel, d.PredictedLabel is { } p ? DocumentClasses.NameOf(p) : null, d.PredictedConfidence);
}

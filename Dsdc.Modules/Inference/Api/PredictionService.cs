using System.Diagnostics;
using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Ingestion;
using Dsdc.Monitoring;
using Dsdc.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference.Api;

/// <summary>A classified and stored upload: what the API answers and what the web UI shows.</summary>
public sealed record PredictionOutcome(Classification Result, string DocumentId, long PredictionId, IReadOnlyList<SimilarDocument> Similar);

/// <summary>
/// The one flow behind <c>POST /api/v1/predict</c> and the web UI's classify page: hash, classify (inspect, OCR, image,
/// cleaning, encoding: <see cref="DocumentProcessor"/>), keep the upload with the lineage rows of what was just computed
/// (so the pipeline has nothing left to do for it), record the prediction, find similar known documents. Throws <see cref="InvalidDocumentException"/>,
/// <see cref="NoModelException"/> and <see cref="DocumentBeingDeletedException"/> for the caller to translate.
/// </summary>
public sealed partial class PredictionService(
    IDocumentClassifier classifier, DocumentIntake intake, DocumentLineage lineage, PredictionStore store,
    SimilarDocumentSearch similar, IOptions<PredictionApiOptions> options, ILogger<PredictionService> logger)
{
    /// <summary>
    /// How often a request may look for a champion while none serves (one promoted by another process before the
    /// background reload sees it): at most once in this interval, so that a champion that cannot be loaded is not
    /// loaded again by every request, one at a time.
    /// </summary>
    internal static readonly TimeSpan ReloadOnRequestInterval = TimeSpan.FromSeconds(5);

    /// <summary>False when no model is served and none can be loaded now.</summary>
    public async Task<bool> HasModelAsync(CancellationToken ct)
    {
        if (classifier.ModelRunId is not null) return true;
        try
        {
            if (await classifier.ReloadIfDueAsync(ReloadOnRequestInterval, ct) is not null) return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The promoted champion cannot be loaded (its files gone, another encoder): ChampionLoadFailure says why, the
            // status and the UI show it, and the zero-shot model answers meanwhile.
        }
        return classifier.CanClassify;
    }

    /// <summary>Why nothing classifies when <see cref="HasModelAsync"/> says so: no champion yet, or the one promoted cannot be loaded.</summary>
    public string NoModelReason => ModelHost.NoModel(classifier.ChampionLoadFailure).Message;

    /// <summary>Classifies <paramref name="content"/> (the upload named <paramref name="fileName"/>) for <paramref name="userName"/>.</summary>
    public async Task<PredictionOutcome> ClassifyAsync(Func<Stream, CancellationToken, Task> copyTo, string fileName, string userName, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var received = Path.Combine(intake.UploadsDir, Guid.NewGuid().ToString("N"));
        // The processed page, beside the upload until it is stored at the image stage's path.
        var processedPng = received + ".png";
        try
        {
            await using (var target = File.Create(received))
                await copyTo(target, ct);
            var sha1 = await DocumentIntake.HashAsync(received, ct);
            // The classifier inspects the file first (refusing what it cannot read) and hands back what every step made.
            var result = await classifier.ClassifyFileAsync(received, processedPng, ct);
            long predictionId = 0;
            // The prediction is recorded with the lineage, while the intake holds the document's deletion lock: a deletion
            // asked for meanwhile waits until both are written, so the request never fails for want of its document.
            var documentId = await intake.StoreAsync(received, fileName, result.Document!, sha1, async (id, token) =>
            {
                await StoreLineageAsync(id, result, token);
                predictionId = await store.RecordAsync(id, userName, result, (int)watch.ElapsedMilliseconds, token);
            }, ct);
            var k = options.Value.SimilarDocuments;
            // The prediction is recorded: the similar documents are extra, and failing to find them must not turn a
            // recorded prediction into an error (a retry would record it twice).
            var neighbours = k == 0 ? [] : await TryFindSimilarAsync(result, documentId, k, ct);
            DsdcMetrics.RecordPrediction(result.Label, result.Confidence, watch.Elapsed, result.NeedsReview);
            LogPrediction(logger, documentId, result.ClassName, result.Confidence, result.ModelId, userName);
            return new PredictionOutcome(result, documentId, predictionId, neighbours);
        }
        finally
        {
            if (File.Exists(received)) File.Delete(received);
            if (File.Exists(processedPng)) File.Delete(processedPng);
        }
    }

    /// <summary>
    /// Stores what the prediction computed as the document's lineage. A failure there does not fail the prediction:
    /// the rows stored so far are a prefix of the stages, and the pipeline does the rest as for any stored document.
    /// </summary>
    private async Task StoreLineageAsync(string documentId, Classification result, CancellationToken ct)
    {
        try
        {
            await lineage.StoreAsync(documentId, result.Processed!, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogLineageNotStored(logger, documentId, ex.Message);
        }
    }

    private async Task<IReadOnlyList<SimilarDocument>> TryFindSimilarAsync(Classification result, string documentId, int k, CancellationToken ct)
    {
        try
        {
            return await FindSimilarAsync(result, documentId, k, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSimilarNotFound(logger, documentId, ex.Message);
            return [];
        }
    }

    /// <summary>
    /// Known documents nearest to this one: by its stored embedding (stored with the upload), or, when none is stored,
    /// by the vector from this very prediction; the document itself is never listed.
    /// </summary>
    private async Task<IReadOnlyList<SimilarDocument>> FindSimilarAsync(Classification result, string documentId, int k, CancellationToken ct)
    {
        if (await similar.FindSimilarToAsync(documentId, k, includeSelf: false, ct) is { Count: > 0 } stored) return stored;
        if (result.Embedding is null) return [];
        var found = await similar.FindAsync(result.Embedding, Math.Min(k + 1, SimilarDocumentSearch.MaxK), ct);
        return found.Where(d => d.DocumentId != documentId).Take(k).ToList();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The lineage of upload {DocumentId} was not stored ({Error}); the pipeline will compute it")]
    private static partial void LogLineageNotStored(ILogger logger, string documentId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Similar documents of {DocumentId} not found ({Error}); the prediction is answered without them")]
    private static partial void LogSimilarNotFound(ILogger logger, string documentId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Predicted {DocumentId} as {ClassName} ({Confidence:F2}) with {ModelId} for {User}")]
    private static partial void LogPrediction(ILogger logger, string documentId, string className, double confidence, string modelId, string user);
}

namespace Dsdc.Inference;

/// <summary>
/// Classifies documents in-process with the champion model: the full prediction path (inspect, OCR or PDF text layer,
/// cleaning, image preprocessing, encoder, the model's views). Safe to call from many threads; a model swap never fails a call.
/// </summary>
public interface IDocumentClassifier
{
    /// <exception cref="NoModelException">no champion is loaded and the zero-shot model is switched off.</exception>
    /// <exception cref="Dsdc.ImageProcessing.InvalidDocumentException">the file is not a readable document.</exception>
    Task<Classification> ClassifyFileAsync(string path, CancellationToken ct);

    /// <summary>
    /// As <see cref="ClassifyFileAsync(string, CancellationToken)"/>, keeping the processed page (PNG) at
    /// <paramref name="processedImagePath"/> when one is given (otherwise in a temporary folder that is deleted).
    /// <see cref="Classification.Processed"/> carries every step's output with its processor version, for
    /// <see cref="Dsdc.Pipeline.DocumentLineage"/> to store.
    /// </summary>
    Task<Classification> ClassifyFileAsync(string path, string? processedImagePath, CancellationToken ct);

    /// <summary>
    /// The last step only, on inputs already computed (a stored document's vector, raw text, processed page and region
    /// features): what <see cref="ClassifyFileAsync(string, CancellationToken)"/> answers for the file they came from.
    /// </summary>
    Task<Classification> ClassifyInputsAsync(Training.PageInputs page, CancellationToken ct);

    /// <summary>
    /// The last step only: a vector of the serving encoder (its dimension) through the champion's views of the vector.
    /// A multi-view champion also reads the raw text and the page layout, which a vector alone lacks: this answer then
    /// comes from its vector view only and can differ from <see cref="ClassifyFileAsync"/> on the same document.
    /// </summary>
    Task<Classification> ClassifyEmbeddingAsync(float[] embedding, CancellationToken ct);

    /// <summary>
    /// The model serving now, held until disposed: every call on it answers with that one model, even when another is
    /// promoted meanwhile (a series of predictions that must all come from one model, and say which).
    /// </summary>
    /// <exception cref="NoModelException">no champion is loaded and the zero-shot model is switched off.</exception>
    IServingModel Acquire();

    /// <summary>The loaded champion's run id, or null (then the zero-shot model answers, when enabled).</summary>
    long? ModelRunId { get; }

    /// <summary>The served champion's manifest (classes it knows, review threshold, estimate), or null.</summary>
    Training.ModelManifest? ServedManifest { get; }

    /// <summary>The served champion, its run id and manifest from the same model (a swap between two reads of
    /// <see cref="ModelRunId"/> and <see cref="ServedManifest"/> could mix two), or null.</summary>
    Training.ChampionModel? ServedChampion { get; }

    /// <summary>The classes some stored document is labelled with, as last read (null before): of the classes the
    /// champion knows, only these are predicted (<see cref="Inference.LabelledClasses"/>).</summary>
    IReadOnlySet<int>? LabelledClasses { get; }

    /// <summary>Why the registry's champion does not serve (missing model files, another encoder...), or null.</summary>
    string? ChampionLoadFailure { get; }

    /// <summary>Whether a prediction can be made now: a champion is loaded, or the zero-shot model is enabled.</summary>
    bool CanClassify { get; }

    /// <summary>Loads the registry's champion now if it differs from the served one, and reads the labelled classes again;
    /// returns the served run id.</summary>
    Task<long?> ReloadAsync(CancellationToken ct);

    /// <summary>As <see cref="ReloadAsync"/>, unless a load was tried less than <paramref name="interval"/> ago.</summary>
    Task<long?> ReloadIfDueAsync(TimeSpan interval, CancellationToken ct);
}

/// <summary>One model held for a series of predictions (see <see cref="IDocumentClassifier.Acquire"/>).</summary>
public interface IServingModel : IDisposable
{
    /// <summary>The champion's run id; null for the zero-shot model.</summary>
    long? RunId { get; }

    /// <summary>What predictions record as their model: <c>run-N</c>, or the zero-shot model's id.</summary>
    string ModelId { get; }

    /// <summary>Whether the model reads the page's region features (a page without them cannot be classified by it).</summary>
    bool ReadsRegions { get; }

    /// <summary>The last step only, on inputs already computed, as <see cref="IDocumentClassifier.ClassifyInputsAsync"/>.</summary>
    Classification Classify(Training.PageInputs page);
}

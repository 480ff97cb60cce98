using Dsdc.Embedding;
using Dsdc.Shared;

namespace Dsdc.Inference.Api;

/// <summary>What serves predictions now, in plain words: the status endpoint and the web UI say the same.</summary>
public static class ServingStatus
{
    public static StatusResponse Describe(IDocumentClassifier classifier, IDocumentEncoder encoder)
    {
        var version = typeof(ServingStatus).Assembly.GetName().Version?.ToString() ?? "0";
        // One read: the run id and the manifest of the same model, even when a promotion swaps it meanwhile.
        var champion = classifier.ServedChampion;
        // A champion that cannot be loaded is said first: otherwise the status would describe what serves instead as if
        // nothing had been trained.
        var failure = classifier.ChampionLoadFailure is { } f
            ? $"The promoted champion cannot be loaded ({f.TrimEnd('.')}): restore the models folder (Dsdc:ModelsDir) or train and promote again. "
            : "";
        if (champion is not null)
        {
            var (runId, manifest) = (champion.RunId, champion.Manifest);
            var known = LabelledClasses.Servable(manifest.Predictable, classifier.LabelledClasses);
            var lost = manifest.Predictable.Count - known.Count;
            var estimate = manifest.Metrics.Estimate;
            var measured = estimate is null
                ? $"test accuracy {manifest.Metrics.Accuracy:P1} on {manifest.Metrics.TestSize} documents"
                : $"cross-validated accuracy {estimate.Accuracy:P1}, macro-F1 {estimate.MacroF1:F2} ({estimate.Folds}-fold x {estimate.Repeats} on {estimate.Documents} documents). {estimate.Uncertainty}";
            var missing = DocumentClasses.Count - known.Count;
            return new StatusResponse("ready", version, runId, encoder.Id, encoder.Version, encoder.Dimensions, true,
                failure + $"Trained model run {runId} ({manifest.Name}) serves: {measured}".TrimEnd('.') + "." +
                (missing > 0 ? $" It knows {known.Count} of {DocumentClasses.Count} classes: label documents of the others to have them predicted." : "") +
                (lost > 0 ? $" {lost} class(es) it was trained on have no labelled document now and are not predicted." : ""),
                known.Select(DocumentClasses.NameOf).ToList(), manifest.ReviewThreshold, estimate);
        }
        return classifier.CanClassify
            ? new StatusResponse("zero-shot", version, null, encoder.Id, encoder.Version, encoder.Dimensions, false,
                (failure.Length > 0 ? failure + "Meanwhile the zero-shot model" : "No trained model exists yet: the zero-shot model") +
                " (class descriptions, cue words and the page's look; about a third of answers right on the shared datasets) " +
                "answers, and every prediction needs review." + (failure.Length > 0 ? "" : " Label documents of at least two classes and train."),
                DocumentClasses.Names.ToList(), null, null)
            : new StatusResponse("no-model", version, null, encoder.Id, encoder.Version, encoder.Dimensions, false,
                failure + (failure.Length > 0 ? "The zero-shot model is switched off" : "No trained model exists yet and the zero-shot model is switched off") +
                " (Inference:ZeroShot): nothing can be classified.", [], null, null);
    }
}

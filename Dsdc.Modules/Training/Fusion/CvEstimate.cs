using System.Text.Json.Serialization;

namespace Dsdc.Training;

/// <summary>One point of an accuracy-coverage curve: answering only the most confident <see cref="Coverage"/> share of
/// documents (those with confidence >= <see cref="Threshold"/>) is right <see cref="Accuracy"/> of the time.</summary>
public sealed record CoveragePoint(
    [property: JsonPropertyName("coverage")] double Coverage,
    [property: JsonPropertyName("accuracy")] double Accuracy,
    [property: JsonPropertyName("threshold")] double Threshold);

/// <summary>
/// What repeated stratified k-fold cross-validation says about a recipe: every figure comes from documents scored by a
/// model that never trained on them. Accuracy and macro-F1 are pooled per repeat, then averaged over the repeats;
/// <see cref="AccuracySd"/> is the standard deviation of the per-fold accuracies (the spread a single small test side has)
/// and <see cref="AccuracyCi95"/> the half-width of a 95% interval of the mean by the corrected resampled t statistic
/// (Nadeau and Bengio), which allows for the overlap of training sides between folds.
/// </summary>
public sealed record CvEstimate(
    [property: JsonPropertyName("folds")] int Folds,
    [property: JsonPropertyName("repeats")] int Repeats,
    [property: JsonPropertyName("seed")] int Seed,
    [property: JsonPropertyName("documents")] int Documents,
    [property: JsonPropertyName("accuracy")] double Accuracy,
    [property: JsonPropertyName("accuracySd")] double AccuracySd,
    [property: JsonPropertyName("accuracyCi95")] double AccuracyCi95,
    [property: JsonPropertyName("macroF1")] double MacroF1,
    [property: JsonPropertyName("macroF1Sd")] double MacroF1Sd,
    [property: JsonPropertyName("logLoss")] double LogLoss,
    [property: JsonPropertyName("ece")] double Ece,
    [property: JsonPropertyName("foldAccuracies")] IReadOnlyList<double> FoldAccuracies,
    [property: JsonPropertyName("coverage")] IReadOnlyList<CoveragePoint> Coverage,
    [property: JsonPropertyName("reviewThreshold")] double ReviewThreshold,
    [property: JsonPropertyName("targetAccuracy")] double TargetAccuracy,
    [property: JsonPropertyName("smallestClass")] int SmallestClass = 0,
    [property: JsonPropertyName("meanConfidence")] double MeanConfidence = 0)
{
    /// <summary>
    /// How far the mean confidence of the out-of-fold answers may stray from their accuracy before
    /// <see cref="Uncertainty"/> warns that the probabilities run low or high.
    /// </summary>
    public const double ConfidenceGapToReport = 0.10;

    /// <summary>In plain words, how far the estimate can be trusted, and its probabilities.</summary>
    [JsonIgnore]
    public string Uncertainty =>
        (SmallestClass == 1
            ? "Some classes have a single labelled document, which cross-validation never has on both sides: for them it can only count errors, so the estimate is pessimistic. "
            : "") +
        $"With {Documents} documents the true accuracy is within about ±{AccuracyCi95:P0} of {Accuracy:P0} (95%)" +
        (Documents < 160 ? "; label more documents to narrow it." : ".") +
        ConfidenceGap;

    /// <summary>
    /// Out of fold, the mean probability of the answers against how often they were right (the overall gap that the
    /// expected calibration error breaks down by confidence). With two or three documents per class, the leave-one-out
    /// scores that set the probabilities come from models with one fewer of each class than the served one, and the
    /// probabilities run low. Not said while a class has a single document, where the accuracy itself is pessimistic.
    /// </summary>
    private string ConfidenceGap =>
        SmallestClass < 2 || MeanConfidence <= 0 ? ""
        : Accuracy - MeanConfidence > ConfidenceGapToReport
            ? $" The model's probabilities run low: out of fold its answers averaged {MeanConfidence:P0} confidence and were right {Accuracy:P0} of the time, so a low probability does not yet mean a wrong answer."
        : MeanConfidence - Accuracy > ConfidenceGapToReport
            ? $" The model's probabilities run high: out of fold its answers averaged {MeanConfidence:P0} confidence and were right only {Accuracy:P0} of the time."
        : "";

    /// <summary>The accuracy when answering only the <paramref name="coverage"/> most confident share.</summary>
    public double AccuracyAt(double coverage) =>
        Coverage.Where(p => p.Coverage >= coverage - 1e-9).OrderBy(p => p.Coverage).Select(p => p.Accuracy).DefaultIfEmpty(double.NaN).First();
}

/// <summary>An out-of-fold prediction: the document's true class and the probabilities of a model that did not see it.</summary>
public readonly record struct OutOfFold(int Truth, float[] Probabilities)
{
    public int Predicted => ClassificationMetrics.ArgMax(Probabilities);
    public double Confidence => Probabilities[Predicted];
}

/// <summary>Calibration and selective-prediction measures over out-of-fold predictions.</summary>
public static class Calibration
{
    /// <summary>Expected calibration error: 10 equal-width bins of the top probability, |accuracy - confidence| weighted by bin size.</summary>
    public static double ExpectedCalibrationError(IReadOnlyList<OutOfFold> predictions, int bins = 10)
    {
        if (predictions.Count == 0) return double.NaN;
        double sum = 0;
        foreach (var bin in predictions.GroupBy(p => Math.Min(bins - 1, (int)(p.Confidence * bins))))
        {
            var accuracy = bin.Average(p => p.Predicted == p.Truth ? 1.0 : 0.0);
            var confidence = bin.Average(p => p.Confidence);
            sum += bin.Count() * Math.Abs(accuracy - confidence);
        }
        return sum / predictions.Count;
    }

    public static double LogLoss(IReadOnlyList<OutOfFold> predictions) =>
        predictions.Count == 0 ? double.NaN : predictions.Average(p => -Math.Log(Math.Max(p.Probabilities[p.Truth], 1e-12)));

    /// <summary>Accuracy of the most confident 5%, 10%, ... 100% of the predictions, with the confidence each starts at.</summary>
    public static IReadOnlyList<CoveragePoint> Curve(IReadOnlyList<OutOfFold> predictions, int steps = 20)
    {
        // Within a tie of confidence the wrong answers come first: no threshold can separate tied answers, so a point
        // inside a tie reads its lower accuracy instead of one that depends on the documents' order.
        var sorted = predictions.OrderByDescending(p => p.Confidence).ThenBy(p => p.Predicted == p.Truth ? 1 : 0).ToList();
        var points = new List<CoveragePoint>();
        for (var s = 1; s <= steps; s++)
        {
            // At least the share asked for: rounding 364.5 of 729 down would make the "50%" point a 49.9% one, and
            // AccuracyAt(0.5) would then read the 55% point.
            var take = Math.Max(1, (int)Math.Ceiling(sorted.Count * s / (double)steps - 1e-9));
            if (take > sorted.Count) break;
            var part = sorted.Take(take).ToList();
            points.Add(new CoveragePoint(take / (double)sorted.Count, part.Average(p => p.Predicted == p.Truth ? 1.0 : 0.0), part[^1].Confidence));
        }
        return points;
    }

    /// <summary>
    /// The lowest confidence at which the predictions at or above it are right at least <paramref name="target"/> of the
    /// time (over at least <paramref name="minimum"/> of them; pooled repeats count each document once per repeat, so
    /// their caller asks for 5 x repeats): below it a prediction needs review. 1 when no such threshold exists (every
    /// prediction needs review).
    /// </summary>
    public static double ReviewThreshold(IReadOnlyList<OutOfFold> predictions, double target, int minimum = 5)
    {
        var sorted = predictions.OrderByDescending(p => p.Confidence).ToList();
        var best = 1.0;
        var correct = 0;
        for (var i = 0; i < sorted.Count; i++)
        {
            if (sorted[i].Predicted == sorted[i].Truth) correct++;
            // Only where the confidence changes: ties all fall on the same side of a threshold.
            if (i + 1 < sorted.Count && sorted[i + 1].Confidence == sorted[i].Confidence) continue;
            if (i + 1 >= minimum && correct / (double)(i + 1) >= target) best = sorted[i].Confidence;
        }
        return best;
    }
}

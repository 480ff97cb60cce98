namespace Dsdc.Training;

/// <summary>A named recipe that <c>crossvalidate</c> compares.</summary>
public sealed record CvVariant(string Name, string Description, CvRecipe Recipe);

/// <summary>
/// The recipes <c>crossvalidate</c> compares: the fused ridge models over combinations of views (what production
/// trains), the previous production model (averaged logistic regressions) and the original's MLP12.
/// </summary>
public static class CvVariants
{
    public static List<CvVariant> All(TrainingOptions o)
    {
        var settings = new TrainingSettings(o.Epochs, o.BatchSize, o.Patience, o.Seed, o.UseCuda, o.Threads);
        var list = new List<CvVariant>();
        foreach (var (name, views) in new[]
                 {
                     ("fused-t", new[] { ViewKinds.Readings }), ("fused-v", [ViewKinds.Vector]), ("fused-r", [ViewKinds.Regions]),
                     ("fused-tv", [ViewKinds.Readings, ViewKinds.Vector]), ("fused-tr", [ViewKinds.Readings, ViewKinds.Regions]),
                     ("fused-vr", [ViewKinds.Vector, ViewKinds.Regions]), ("fused-tvr", [ViewKinds.Readings, ViewKinds.Vector, ViewKinds.Regions]),
                     ("fused-h", [ViewKinds.Header]), ("fused-isr", [ViewKinds.Image, ViewKinds.Sentence, ViewKinds.Regions]),
                     ("fused-tisr", [ViewKinds.Readings, ViewKinds.Image, ViewKinds.Sentence, ViewKinds.Regions]),
                     ("fused-thvr", [ViewKinds.Readings, ViewKinds.Header, ViewKinds.Vector, ViewKinds.Regions]),
                     ("fused-thisr", [ViewKinds.Readings, ViewKinds.Header, ViewKinds.Image, ViewKinds.Sentence, ViewKinds.Regions]),
                     ("fused-c", [ViewKinds.Cues]),
                 })
            list.Add(new CvVariant(name, $"ridge per view ({string.Join(" + ", views)}), stacked on leave-one-out scores", CvRecipes.FusedRecipe(CvRecipes.Fused(views))));
        foreach (var name in new[] { "fused-tvrc", "fused-tvc" })
            list.Add(new CvVariant(name, $"ridge per view ({string.Join(" + ", FusedRecipes.Named(name).Views.Select(v => v.View))}), stacked on leave-one-out scores",
                CvRecipes.FusedRecipe(FusedRecipes.Named(name))));
        // The same recipes with the text view reading the main OCR reading alone (the fused recipes before Ocr:ExtraReadings).
        foreach (var (name, views) in new[]
                 {
                     ("fused-t-onereading", new[] { ViewKinds.Text }), ("fused-tv-onereading", [ViewKinds.Text, ViewKinds.Vector]),
                     ("fused-tr-onereading", [ViewKinds.Text, ViewKinds.Regions]), ("fused-tvr-onereading", [ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions]),
                 })
            list.Add(new CvVariant(name, $"ridge per view ({string.Join(" + ", views)}), the main OCR reading only", CvRecipes.FusedRecipe(CvRecipes.Fused(views))));
        list.Add(new CvVariant("fused-tvr-uncalibrated", "the views of fused-tvr, stacked, without the top-label calibration",
            CvRecipes.FusedRecipe(CvRecipes.TextVectorRegions with { Calibrate = false })));
        list.Add(new CvVariant("fused-tvr-unstacked", "the views of fused-tvr, every weight 1: the raw ridge scores summed, no stacking (no calibration)",
            CvRecipes.FusedRecipe(CvRecipes.TextVectorRegions with { Stack = false })));
        list.Add(new CvVariant("views-lr", "mean probabilities of logistic regression on the vectors and on raw-text TF-IDF (TorchSharp, Adam)",
            CvRecipes.ViewsRecipe(ProductionViews.Linear, settings)));
        list.Add(new CvVariant("mlp12", "the original's MLP12 on the encoder's vectors",
            CvRecipes.ViewsRecipe(new ViewEnsembleParameters([new ViewParameters(ViewKinds.Vector, KnownConfigurations.Mlp12, 0, false)]), settings)));
        return list;
    }
}

/// <summary>The probes' one-line estimate of a fused recipe over some views, by the configured repeated k-fold.</summary>
internal static class FusedEstimate
{
    public static void Print(string name, IReadOnlyList<LabelledPage> pages, TrainingOptions o, CancellationToken ct, params string[] views)
    {
        var cv = RepeatedCrossValidation.Run(pages, o.CvFolds, o.CvRepeats, o.Seed, CvRecipes.FusedRecipe(CvRecipes.Fused(views)), o.ReviewTargetAccuracy, ct).Estimate;
        Console.WriteLine($"{name,-30} {Describe(cv)}");
    }

    /// <summary>"accuracy A (fold sd S), macro-F1, log-loss, ECE, at 50% coverage": the figures every probe prints.</summary>
    public static string Describe(CvEstimate cv)
    {
        static string P(double x) => x.ToString("P1", System.Globalization.CultureInfo.InvariantCulture);
        return $"accuracy {P(cv.Accuracy)} (fold sd {P(cv.AccuracySd)}), macro-F1 {cv.MacroF1:F3}, log-loss {cv.LogLoss:F3}, " +
            $"ECE {cv.Ece:F3}, at 50% coverage {P(cv.AccuracyAt(0.5))}";
    }
}

namespace Dsdc.Training;

/// <summary>A named recipe that <c>crossvalidate</c> and model selection compare.</summary>
public sealed record CvVariant(string Name, string Description, CvRecipe Recipe);

/// <summary>
/// The recipes compared by cross-validation: the fused ridge models over combinations of views (what production
/// trains), the previous production model (averaged logistic regressions) and the original's MLP12.
/// </summary>
public static class CvVariants
{
    public static readonly FusedParameters TextVectorRegions = Fused(ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions);

    public static FusedParameters Fused(params string[] views) =>
        new(views.Select(v => new FusedViewParameters(v, !ViewKinds.IsText(v))).ToList());

    /// <summary>A fused model per training side. A side with documents of one class only (a fold of a tiny corpus) can only
    /// ever answer that class, so it does, with certainty.</summary>
    public static CvRecipe FusedRecipe(FusedParameters parameters) => (train, test, ct) =>
    {
        var classes = train.Select(t => t.Label).Distinct().ToList();
        if (classes.Count < 2)
            return test.Select(_ => Enumerable.Range(0, Shared.DocumentClasses.Count).Select(c => c == classes.Single() ? 1f : 0f).ToArray()).ToArray();
        return FusedModel.Train(parameters, train, ct).Predict(test.Select(t => t.Inputs).ToList());
    };

    /// <summary>A multi-view or MLP recipe trained by TorchSharp, with a stratified 15% of its training side for early stopping.</summary>
    public static CvRecipe ViewsRecipe(ViewEnsembleParameters parameters, TrainingSettings settings) => (train, test, ct) =>
    {
        var inner = SplitAssigner.AssignNew([], train.Select(d => (d.DocumentId, d.Label)).ToList(), 0.15, 0.0001, settings.Seed)
            .ToDictionary(a => a.DocumentId, a => a.Side);
        var fit = train.Where(d => inner[d.DocumentId] != SplitSides.Validation).ToList();
        var validation = train.Where(d => inner[d.DocumentId] == SplitSides.Validation).ToList();
        using var model = ViewEnsembleTrainer.Train(parameters, fit, validation, settings, null, ct);
        return model.Predict(test.Select(t => t.Inputs).ToList());
    };

    public static List<CvVariant> All(TrainingOptions o)
    {
        var settings = new TrainingSettings(o.Epochs, o.BatchSize, o.Patience, o.Seed, o.UseCuda, o.Threads);
        var list = new List<CvVariant>();
        foreach (var (name, views) in new[]
                 {
                     ("fused-t", new[] { ViewKinds.Text }), ("fused-v", [ViewKinds.Vector]), ("fused-r", [ViewKinds.Regions]),
                     ("fused-tv", [ViewKinds.Text, ViewKinds.Vector]), ("fused-tr", [ViewKinds.Text, ViewKinds.Regions]),
                     ("fused-vr", [ViewKinds.Vector, ViewKinds.Regions]), ("fused-tvr", [ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions]),
                     ("fused-h", [ViewKinds.Header]), ("fused-isr", [ViewKinds.Image, ViewKinds.Sentence, ViewKinds.Regions]),
                     ("fused-tisr", [ViewKinds.Text, ViewKinds.Image, ViewKinds.Sentence, ViewKinds.Regions]),
                     ("fused-thvr", [ViewKinds.Text, ViewKinds.Header, ViewKinds.Vector, ViewKinds.Regions]),
                     ("fused-thisr", [ViewKinds.Text, ViewKinds.Header, ViewKinds.Image, ViewKinds.Sentence, ViewKinds.Regions]),
                 })
            list.Add(new CvVariant(name, $"ridge per view ({string.Join(" + ", views)}), stacked on leave-one-out scores", FusedRecipe(Fused(views))));
        list.Add(new CvVariant("fused-tvr-unstacked", "the views of fused-tvr, every weight 1: the raw ridge scores summed, no stacking (no calibration)",
            FusedRecipe(TextVectorRegions with { Stack = false })));
        list.Add(new CvVariant("views-lr", "mean probabilities of logistic regression on the vectors and on raw-text TF-IDF (TorchSharp, Adam)",
            ViewsRecipe(ProductionViews.Linear, settings)));
        list.Add(new CvVariant("mlp12", "the original's MLP12 on the encoder's vectors",
            ViewsRecipe(new ViewEnsembleParameters([new ViewParameters(ViewKinds.Vector, KnownConfigurations.Mlp12, 0, false)]), settings)));
        return list;
    }
}

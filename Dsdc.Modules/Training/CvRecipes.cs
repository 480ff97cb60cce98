namespace Dsdc.Training;

/// <summary>
/// The recipes that cross-validation estimates: a fused ridge model over chosen views (what production trains), and a
/// multi-view or MLP model trained by TorchSharp (the original's MLPs, the previous production model).
/// </summary>
public static class CvRecipes
{
    /// <summary>The OCR readings' TF-IDF, the encoder's vector, the region features (<c>fused-tvr</c>: production's recipe until the cues view).</summary>
    public static readonly FusedParameters TextVectorRegions = Fused(ViewKinds.Readings, ViewKinds.Vector, ViewKinds.Regions);

    /// <summary>Production's recipe (<c>fused-tvrc</c>): <see cref="TextVectorRegions"/> and the classes' cue words (<see cref="CueLexicon"/>).</summary>
    public static readonly FusedParameters Production = Fused(ViewKinds.Readings, ViewKinds.Vector, ViewKinds.Regions, ViewKinds.Cues);

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
        var known = Stacking.KnownOf(train.Select(t => t.Label));
        return model.Predict(test.Select(t => t.Inputs).ToList()).Select(p => Stacking.Restrict(p, known)).ToArray();
    };
}

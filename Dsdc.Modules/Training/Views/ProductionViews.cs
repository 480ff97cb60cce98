namespace Dsdc.Training;

/// <summary>
/// The multi-view model that the training job trains beside the MLPs, chosen by cross-validation
/// (docs/benchmarks.md, "Training and accuracy"): logistic regression per view, probabilities averaged.
/// </summary>
public static class ProductionViews
{
    public const string Name = "views-lr";

    public static readonly ViewEnsembleParameters Linear = new(
    [
        ViewEnsembleParameters.Linear(ViewKinds.Vector, 1e-3, 1e-3, standardize: true),
        ViewEnsembleParameters.Linear(ViewKinds.Text, 1e-2, 0, standardize: false),
        ViewEnsembleParameters.Linear(ViewKinds.Layout, 1e-3, 1e-3, standardize: true),
    ]);
}

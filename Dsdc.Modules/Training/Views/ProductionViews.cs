namespace Dsdc.Training;

/// <summary>
/// The multi-view model that the training job trains beside the MLPs, chosen by cross-validation
/// (docs/benchmarks.md, "Training and accuracy", variant <c>views-vt</c>): logistic regression on the standardised
/// vectors and on TF-IDF of the raw OCR text, probabilities averaged. The layout view did not help in CV and is left out.
/// </summary>
public static class ProductionViews
{
    public const string Name = "views-lr";

    public static readonly ViewEnsembleParameters Linear = new(
    [
        ViewEnsembleParameters.Linear(ViewKinds.Vector, 1e-3, 1e-3, standardize: true),
        ViewEnsembleParameters.Linear(ViewKinds.Text, 1e-2, 0, standardize: false),
    ]);
}

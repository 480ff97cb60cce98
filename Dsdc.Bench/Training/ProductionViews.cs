namespace Dsdc.Training;

/// <summary>
/// The previous production model, <c>views-lr</c> (docs/benchmarks.md, "Training and accuracy", variant <c>views-vt</c>):
/// logistic regression on the standardised vectors and on TF-IDF of the raw OCR text, probabilities averaged. Now a
/// cross-validation variant only; a champion trained with it is still served and re-run from its recorded parameters.
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

namespace Dsdc.Training;

public sealed record ClassMetrics(int Label, string ClassName, double Precision, double Recall, double F1, int Support);

/// <summary>Accuracy, macro-F1 (over the classes present in the truth or the predictions, as scikit-learn does),
/// per-class precision and recall, and the confusion matrix (rows = true class, columns = predicted).</summary>
public sealed record ClassificationMetrics(double Accuracy, double MacroF1, IReadOnlyList<ClassMetrics> PerClass, int[][] Confusion, int Count)
{
    public static ClassificationMetrics Compute(IReadOnlyList<int> truth, IReadOnlyList<int> predicted, int classes = Shared.DocumentClasses.Count)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException("truth and predictions differ in length");
        var confusion = Enumerable.Range(0, classes).Select(_ => new int[classes]).ToArray();
        for (var i = 0; i < truth.Count; i++) confusion[truth[i]][predicted[i]]++;
        var correct = Enumerable.Range(0, classes).Sum(c => confusion[c][c]);
        var perClass = new List<ClassMetrics>();
        var f1s = new List<double>();
        for (var c = 0; c < classes; c++)
        {
            var support = confusion[c].Sum();
            var predictedAs = Enumerable.Range(0, classes).Sum(t => confusion[t][c]);
            var precision = predictedAs == 0 ? 0 : (double)confusion[c][c] / predictedAs;
            var recall = support == 0 ? 0 : (double)confusion[c][c] / support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            if (support > 0 || predictedAs > 0) f1s.Add(f1);
            perClass.Add(new ClassMetrics(c, Shared.DocumentClasses.NameOf(c), precision, recall, f1, support));
        }
        return new ClassificationMetrics(truth.Count == 0 ? 0 : (double)correct / truth.Count, f1s.Count == 0 ? 0 : f1s.Average(),
            perClass, confusion, truth.Count);
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}

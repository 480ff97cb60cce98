using System.Diagnostics;

namespace Dsdc.Training;

/// <summary>A labelled document for cross-validation: its vector, its cleaned text, and what the views read.</summary>
public sealed record CvDocument(string DocumentId, int Label, float[] Vector, string Text, PageInputs Inputs);

/// <summary>How one variant turns the documents of a fold into probabilities, after training on the others.</summary>
public sealed record CvVariant(string Name, string Description, Func<IReadOnlyList<CvDocument>, IReadOnlyList<CvDocument>, IReadOnlyList<CvDocument>, (float[][] Probabilities, List<double> EpochMs)> Run);

public sealed record CvResult(string Variant, string Description, ClassificationMetrics Metrics, double MeanEpochMs, double Seconds, IReadOnlyList<double> FoldAccuracies);

/// <summary>
/// Stratified k-fold cross-validation over whole documents (one vector per document, so a document is never on both
/// sides); each fold trains from scratch, with an inner stratified validation part of its training side for early stopping.
/// </summary>
public static class CrossValidation
{
    public static IReadOnlyList<int> Folds(IReadOnlyList<CvDocument> docs, int k, int seed)
    {
        var folds = new int[docs.Count];
        var random = new Random(seed);
        foreach (var group in docs.Select((d, i) => (d, i)).GroupBy(x => x.d.Label))
        {
            var members = group.Select(x => x.i).ToArray();
            random.Shuffle(members);
            // Round-robin from a random start, so the classes with fewer than k documents do not all land in fold 0.
            var start = random.Next(k);
            for (var j = 0; j < members.Length; j++) folds[members[j]] = (start + j) % k;
        }
        return folds;
    }

    public static CvResult Run(IReadOnlyList<CvDocument> docs, int k, int seed, CvVariant variant, Action<string>? log = null)
    {
        var watch = Stopwatch.StartNew();
        var folds = Folds(docs, k, seed);
        var truth = new List<int>();
        var predicted = new List<int>();
        var epochMs = new List<double>();
        var foldAccuracies = new List<double>();
        for (var f = 0; f < k; f++)
        {
            var test = docs.Where((_, i) => folds[i] == f).ToList();
            var rest = docs.Where((_, i) => folds[i] != f).ToList();
            var inner = SplitAssigner.AssignNew([], rest.Select(d => (d.DocumentId, d.Label)).ToList(), 0.15, 0.0001, seed + f)
                .ToDictionary(a => a.DocumentId, a => a.Side);
            var train = rest.Where(d => inner[d.DocumentId] != SplitSides.Validation).ToList();
            var validation = rest.Where(d => inner[d.DocumentId] == SplitSides.Validation).ToList();
            var (probabilities, ms) = variant.Run(train, validation, test);
            epochMs.AddRange(ms);
            var p = probabilities.Select(x => ClassificationMetrics.ArgMax(x)).ToList();
            truth.AddRange(test.Select(t => t.Label));
            predicted.AddRange(p);
            foldAccuracies.Add(test.Count == 0 ? 0 : test.Where((t, i) => t.Label == p[i]).Count() / (double)test.Count);
            log?.Invoke($"{variant.Name} fold {f + 1}/{k}: {foldAccuracies[^1]:P1} on {test.Count} documents");
        }
        return new CvResult(variant.Name, variant.Description, ClassificationMetrics.Compute(truth, predicted),
            epochMs.DefaultIfEmpty(0).Average(), watch.Elapsed.TotalSeconds, foldAccuracies);
    }
}

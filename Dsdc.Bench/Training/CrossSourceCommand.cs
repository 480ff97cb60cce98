using System.Globalization;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>crosssource DIR [--recipe fused-tvrc]</c>: how a model does on pages from a collection it never saw. The labelled
/// corpus in DIR holds one folder per source (a dataset, a contributor); each stored document is matched to its source
/// by its id, the hash of the file that ingestion computes (InboxIngestor.HashAsync). Leave one source out: for each source, the model trains on every other source's
/// documents and answers that source's (a class no other source labelled cannot be answered). Beside it, the same
/// recipe by the stratified 5-fold x 3 cross-validation of every other figure, and how many documents have a near twin
/// (cosine of the region features or encoder vector at least 0.98) in the same source or in another one: twins on both
/// sides of a split flatter an estimate.
/// </summary>
internal sealed class CrossSourceCommand(TrainingDataLoader loader, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "crosssource";
    public string Usage => "DIR [--recipe fused-tvrc]  leave-one-source-out accuracy of the production recipe against stratified k-fold, and near-duplicates across sources";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var positional = cli.Positional("--recipe", "--regions");
        if (positional.Count < 1 || !Directory.Exists(positional[0]))
        {
            Console.Error.WriteLine($"Usage: crosssource {Usage}");
            return 2;
        }
        var root = positional[0];
        var o = options.Value;
        var recipeName = cli.Value("--recipe") ?? TrainingOptions.DefaultCandidates[0];
        var recipe = CvRecipes.FusedRecipe(FusedRecipes.Named(recipeName));

        var sourceOf = await SourcesAsync(root, ct);
        var docs = RegionSubset.Apply(cli, await loader.LoadAllAsync(ct)).Where(d => sourceOf.ContainsKey(d.DocumentId)).ToList();
        if (docs.Select(d => d.Label).Distinct().Count() < 2)
        {
            Console.Error.WriteLine($"No labelled, embedded document of {root} is stored: ingest it first.");
            return 1;
        }
        var sources = docs.Select(d => sourceOf[d.DocumentId]).Distinct(StringComparer.Ordinal).Count();

        string P(double x) => x.ToString("P1", CultureInfo.InvariantCulture);
        Console.WriteLine($"{docs.Count} documents from {sources} sources; {recipeName}, leave one source out:");
        var leaveOut = LeaveOneSourceOut(docs, sourceOf, recipe, perSource: true, ct);
        var k = RepeatedCrossValidation.FoldsFor(docs.Count, o.CvFolds);
        var cv = RepeatedCrossValidation.Run(docs, k, o.CvRepeats, o.Seed, recipe, o.ReviewTargetAccuracy, ct).Estimate;
        Console.WriteLine($"leave one source out: accuracy {P(leaveOut.Accuracy)}, macro-F1 {leaveOut.MacroF1:F3} (pooled over {docs.Count} documents)");
        Console.WriteLine($"stratified {k}-fold x {o.CvRepeats}, same documents: accuracy {P(cv.Accuracy)} (fold sd {P(cv.AccuracySd)}), macro-F1 {cv.MacroF1:F3}");

        foreach (var (name, features) in new (string, Func<LabelledPage, float[]?>)[] { ("regions", d => d.Inputs.Regions), ("vector", d => d.Inputs.Vector) })
        {
            var unit = docs.Select(d => features(d) is { } f ? Unit(f) : null).ToList();
            int same = 0, other = 0, sameClassOther = 0;
            for (var i = 0; i < docs.Count; i++)
            {
                if (unit[i] is not { } a) continue;
                var (best, cosine) = (-1, double.NegativeInfinity);
                for (var j = 0; j < docs.Count; j++)
                    if (j != i && unit[j] is { } b && Dot(a, b) is var c && c > cosine) (best, cosine) = (j, c);
                if (best < 0 || cosine < 0.98) continue;
                if (sourceOf[docs[best].DocumentId] == sourceOf[docs[i].DocumentId]) same++;
                else
                {
                    other++;
                    if (docs[best].Label == docs[i].Label) sameClassOther++;
                }
            }
            Console.WriteLine($"near twins by {name} (cosine >= 0.98 to the nearest other document): {same} in the same source, " +
                $"{other} in another source ({sameClassOther} of them with the same label)");
        }
        return 0;
    }

    /// <summary>The source (top folder of <paramref name="root"/>) of each labelled file, by the id ingestion gives it.</summary>
    internal static async Task<Dictionary<string, string>> SourcesAsync(string root, CancellationToken ct)
    {
        var sourceOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            if (!relative.Contains(Path.DirectorySeparatorChar) || file.EndsWith(".md", StringComparison.OrdinalIgnoreCase)) continue;
            sourceOf.TryAdd(await Ingestion.InboxIngestor.HashAsync(file, ct), relative.Split(Path.DirectorySeparatorChar)[0]);
        }
        return sourceOf;
    }

    /// <summary>Each source answered by the recipe trained on every other source's documents; the answers pooled.</summary>
    internal static ClassificationMetrics LeaveOneSourceOut(IReadOnlyList<LabelledPage> docs, IReadOnlyDictionary<string, string> sourceOf,
        CvRecipe recipe, bool perSource, CancellationToken ct)
    {
        var pooled = new List<(int Truth, int Predicted)>();
        if (perSource) Console.WriteLine("source | documents | classes | classes unseen by the rest | accuracy");
        foreach (var source in docs.Select(d => sourceOf[d.DocumentId]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var test = docs.Where(d => sourceOf[d.DocumentId] == source).ToList();
            var train = docs.Where(d => sourceOf[d.DocumentId] != source).ToList();
            var trainClasses = train.Select(d => d.Label).ToHashSet();
            var probabilities = recipe(train, test, ct);
            var answers = test.Select((t, i) => (t.Label, ClassificationMetrics.ArgMax(probabilities[i]))).ToList();
            pooled.AddRange(answers);
            if (perSource)
                Console.WriteLine($"{source} | {test.Count} | {test.Select(t => t.Label).Distinct().Count()} | " +
                    $"{test.Select(t => t.Label).Distinct().Count(l => !trainClasses.Contains(l))} | " +
                    $"{(answers.Count(a => a.Label == a.Item2) / (double)test.Count).ToString("P1", CultureInfo.InvariantCulture)}");
        }
        return ClassificationMetrics.Compute(pooled.Select(p => p.Truth).ToList(), pooled.Select(p => p.Predicted).ToList());
    }

    private static double[] Unit(float[] x)
    {
        var n = Math.Sqrt(x.Sum(v => (double)v * v));
        return x.Select(v => n > 0 ? v / n : 0).ToArray();
    }

    private static double Dot(double[] a, double[] b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}

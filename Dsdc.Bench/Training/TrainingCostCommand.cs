using System.Diagnostics;
using System.Globalization;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>bench-train [--sizes 1,2,4,8] [--split-sizes 16,32] [--recipe fused-tvrc]</c>: how a training job's cost grows with the labelled
/// documents. The labelled pages are repeated to 1x, 2x, 4x... their number (each copy a document of its own, its dense
/// features jittered by 1% noise so no two rows coincide; the text is the same, which costs the TF-IDF the same), and at
/// each size the recipe is timed the two ways a job estimates it: repeated k-fold cross-validation plus the final fit
/// (what a job does while some class has too few documents for the stored test side), and one fit on 85% scored on
/// the rest (the stored split, what a job does above that). <c>--split-sizes</c>: larger sizes timed on the stored split only.
/// </summary>
internal sealed class TrainingCostCommand(TrainingDataLoader loader, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "bench-train";
    public string Usage => "[--sizes 1,2,4,8] [--split-sizes 16,32] [--recipe fused-tvrc]  a training job's cost against the number of labelled documents";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var recipeName = cli.Value("--recipe") ?? TrainingOptions.DefaultCandidates[0];
        var parameters = FusedRecipes.Named(recipeName);
        static List<int> Sizes(string? list) => (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var sizes = Sizes(cli.Value("--sizes") ?? "1,2,4,8");
        var splitOnly = Sizes(cli.Value("--split-sizes"));
        TorchDevice.Choose(false, o.Threads);
        var docs = await loader.LoadAllAsync(ct);
        if (docs.Select(d => d.Label).Distinct().Count() < 2)
        {
            Console.Error.WriteLine("Fewer than two labelled classes: ingest a labelled corpus first.");
            return 1;
        }

        Console.WriteLine($"{recipeName}, {docs.Count} labelled documents repeated; {o.CvFolds}-fold x {o.CvRepeats} cross-validation + final fit, " +
            "and one fit on the stored split (85%)");
        double? baseCv = null, baseSplit = null;
        foreach (var times in sizes.Concat(splitOnly))
        {
            var pages = Repeat(docs, times, o.Seed);
            var k = RepeatedCrossValidation.FoldsFor(pages.Count, o.CvFolds);
            GC.Collect();
            var watch = Stopwatch.StartNew();
            double? cv = null;
            if (!splitOnly.Contains(times) || sizes.Contains(times))
            {
                RepeatedCrossValidation.Run(pages, k, o.CvRepeats, o.Seed, CvRecipes.FusedRecipe(parameters), o.ReviewTargetAccuracy, ct);
                FusedModel.Train(parameters, pages, ct);
                cv = watch.Elapsed.TotalSeconds;
            }

            var random = new Random(o.Seed);
            var shuffled = pages.OrderBy(_ => random.Next()).ToList();
            var cut = (int)(shuffled.Count * 0.85);
            watch.Restart();
            FusedModel.Train(parameters, shuffled[..cut], ct).Predict(shuffled[cut..].Select(p => p.Inputs).ToList());
            var split = watch.Elapsed.TotalSeconds;

            baseCv ??= cv / pages.Count;
            baseSplit ??= split / pages.Count;
            var cvText = cv is { } c
                ? $"cross-validation job {c,7:F1} s ({1000 * c / pages.Count,6:F1} ms per document, {c / pages.Count / baseCv,4:F2}x the first size's)"
                : "cross-validation job not timed";
            Console.WriteLine($"{pages.Count,6} documents: {cvText}, stored split {split,6:F1} s ({1000 * split / pages.Count,5:F1} ms per document, " +
                $"{split / pages.Count / baseSplit,4:F2}x); peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB");
        }
        return 0;
    }

    /// <summary><paramref name="times"/> copies of every page, the copies' dense features jittered by 1% noise.</summary>
    internal static List<LabelledPage> Repeat(IReadOnlyList<LabelledPage> docs, int times, int seed)
    {
        var random = new Random(seed);
        float[]? Jitter(float[]? v) => v?.Select(x => x * (1 + 0.01f * (float)(random.NextDouble() * 2 - 1))).ToArray();
        var result = new List<LabelledPage>(docs.Count * times);
        for (var t = 0; t < times; t++)
            foreach (var d in docs)
                result.Add(t == 0 ? d : d with
                {
                    DocumentId = $"{d.DocumentId}~{t}",
                    Inputs = d.Inputs with { Vector = Jitter(d.Inputs.Vector)!, Regions = Jitter(d.Inputs.Regions) },
                });
        return result;
    }
}

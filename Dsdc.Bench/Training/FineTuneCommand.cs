using System.Diagnostics;
using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Dsdc.Training.FineTuning;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace Dsdc.Training;

/// <summary>
/// <c>finetune [--check] [--folds K] [--repeats R] [--epochs E]</c>: ResNet18 fine-tuned on the labelled pages against its
/// frozen ImageNet features, by repeated stratified k-fold cross-validation (a benchmark, not a production path).
/// </summary>
internal sealed class FineTuneCommand(TrainingDataLoader loader, Dsdc.Ingestion.DocumentStore documents, IDocumentInspector inspector,
    IImagePreprocessor images, DsdcPaths paths, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "finetune";
    public string Usage => "[--check] [--folds K] [--repeats R] [--epochs E]  ResNet18 fine-tuned on the pages vs its frozen features";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        TorchDevice.Choose(false, o.Threads);
        var docs = await loader.LoadAllAsync(ct);
        RegionSubset.RequireEveryRegion(docs);
        using var net = ResNet18.FromBundled();
        net.eval();

        var watch = Stopwatch.StartNew();
        var pages = new List<byte[]>();
        foreach (var d in docs)
        {
            var (path, format) = await documents.StoredFileAsync(d.DocumentId, paths, inspector, ct);
            // The whole-page region: the same 224x224 pixels the region features' first 512 values come from.
            pages.Add(images.Regions(path, format, PageRegions.AllRegions)[0]);
        }
        Console.WriteLine($"{pages.Count} pages cut in {watch.Elapsed.TotalSeconds:F1} s");

        if (cli.Flag("--check"))
        {
            var worst = 0.0;
            for (var i = 0; i < Math.Min(20, docs.Count); i++)
            {
                using var x = ResNet18.Input([pages[i]]);
                using var f = net.Features(x);
                var ours = Vectors.Normalize(f.data<float>().ToArray());
                var stored = docs[i].Inputs.Regions!.AsSpan(0, 512).ToArray();
                worst = Math.Max(worst, ours.Zip(stored, (a, b) => Math.Abs(a - b)).Max());
            }
            Console.WriteLine($"max |TorchSharp - ONNX Runtime| over 20 pages (normalised features): {worst:E2}");
            foreach (var batch in new[] { 1, 16 })
            {
                using var x = ResNet18.Input(Enumerable.Range(0, batch).Select(i => pages[i]).ToList());
                watch.Restart();
                using (no_grad()) net.Features(x).Dispose();
                var forward = watch.Elapsed.TotalMilliseconds / batch;
                net.train();
                watch.Restart();
                using (var loss = net.Features(x).sum()) loss.backward();
                var full = watch.Elapsed.TotalMilliseconds / batch;
                net.zero_grad();
                using var trunk = net.Trunk(x, 3).detach();
                watch.Restart();
                using (var loss = net.Head(trunk, 3).sum()) loss.backward();
                var last = watch.Elapsed.TotalMilliseconds / batch;
                net.zero_grad();
                net.eval();
                Console.WriteLine($"batch {batch}: forward {forward:F0} ms/page, forward+backward all {full:F0} ms/page, layer4 only {last:F0} ms/page");
            }
            return 0;
        }

        var k = cli.Int("--folds") ?? o.CvFolds;
        var repeats = cli.Int("--repeats") ?? 1;
        var augmentations = cli.Int("--augment") ?? 6;
        var settings = new FineTuneSettings(Epochs: cli.Int("--epochs") ?? 4, Seed: o.Seed);
        var index = docs.Select((d, i) => (d.DocumentId, i)).ToDictionary(x => x.DocumentId, x => x.i, StringComparer.Ordinal);
        watch.Restart();
        using var cache = TrunkCache.Build(net, pages.Count, batch => ResNet18.Input(batch.Select(i => pages[i]).ToList()), augmentations, o.Seed, ct);
        Console.WriteLine($"frozen stages of {pages.Count} pages x {augmentations} (1 plain + {augmentations - 1} augmented) in {watch.Elapsed.TotalSeconds:F1} s");
        static ResNet18 Pretrained() => ResNet18.FromBundled();

        // Each recipe's test probabilities per fold (keyed by the test side), so that combinations reuse them.
        var memo = new Dictionary<string, float[][]>(StringComparer.Ordinal);
        CvRecipe Memo(string name, CvRecipe recipe) => (train, test, token) =>
        {
            var key = name + ":" + string.Join(',', test.Select(t => t.DocumentId));
            if (!memo.TryGetValue(key, out var p))
            {
                var fit = Stopwatch.StartNew();
                memo[key] = p = recipe(train, test, token);
                Console.WriteLine($"  {name}: fold of {train.Count} trained in {fit.Elapsed.TotalSeconds:F1} s");
            }
            return p;
        };
        CvRecipe Tuned(bool lastStage) => (train, test, token) => FineTuner.FitPredict(Pretrained, cache,
            train.Select(t => (index[t.DocumentId], t.Label)).ToList(), test.Select(t => index[t.DocumentId]).ToList(),
            settings with { TrainLastStage = lastStage }, token);
        var fused = Memo("fused-tvr", CvRecipes.FusedRecipe(FusedRecipes.Named("fused-tvr")));
        var tuned = Memo("finetuned", Tuned(true));
        var probe = Memo("probe", Tuned(false));
        CvRecipe Product(CvRecipe a, CvRecipe b) => (train, test, token) =>
        {
            var pa = a(train, test, token);
            var pb = b(train, test, token);
            return pa.Zip(pb, (x, y) =>
            {
                // The geometric mean of the two distributions, renormalised: equal weights, nothing fitted on the test side.
                var g = x.Zip(y, (u, v) => (float)Math.Sqrt(u * v)).ToArray();
                var sum = g.Sum();
                return sum > 0 ? g.Select(v => v / sum).ToArray() : x;
            }).ToArray();
        };
        // Stacked: the weights of the two models' log-probabilities fitted (grid, least log-loss) on out-of-fold
        // predictions of an inner 3-fold split of the training side; the test side is never seen.
        CvRecipe Stacked(string name, CvRecipe a, CvRecipe b) => (train, test, token) =>
        {
            var inner = RepeatedCrossValidation.Folds(train.Select(t => t.Label).ToList(), 3, 1, o.Seed)[0];
            var oofA = new float[train.Count][];
            var oofB = new float[train.Count][];
            for (var f = 0; f < 3; f++)
            {
                var innerTest = Enumerable.Range(0, train.Count).Where(i => inner[i] == f).ToList();
                var innerTrain = train.Where((_, i) => inner[i] != f).ToList();
                var pa = a(innerTrain, innerTest.Select(i => train[i]).ToList(), token);
                var pb = b(innerTrain, innerTest.Select(i => train[i]).ToList(), token);
                for (var j = 0; j < innerTest.Count; j++) (oofA[innerTest[j]], oofB[innerTest[j]]) = (pa[j], pb[j]);
            }
            var grid = Enumerable.Range(0, 13).Select(i => i * 0.125).ToList();
            var best = (Wa: 1.0, Wb: 0.0, Loss: double.MaxValue);
            foreach (var wa in grid)
            foreach (var wb in grid)
            {
                if (wa + wb == 0) continue;
                var loss = -train.Select((t, i) => Math.Log(Math.Max(1e-9, Combine(oofA[i], oofB[i], wa, wb)[t.Label]))).Average();
                if (loss < best.Loss) best = (wa, wb, loss);
            }
            Console.WriteLine($"  {name}: weights {best.Wa:F3} / {best.Wb:F3} (inner log-loss {best.Loss:F3})");
            return a(train, test, token).Zip(b(train, test, token), (x, y) => Combine(x, y, best.Wa, best.Wb)).ToArray();
        };
        var variants = new (string Name, CvRecipe Recipe)[]
        {
            ("probe (frozen ResNet18, linear head, same augmentations)", probe),
            ($"finetuned (last stage + head, {settings.Epochs} epochs x {augmentations} views)", tuned),
            ("fused-tvr", fused),
            ("fused-tvr x probe", Product(fused, probe)),
            ("fused-tvr x finetuned", Product(fused, tuned)),
            ("fused-tvr + probe, stacked", Stacked("fused-tvr + probe", fused, probe)),
            ("fused-tvr + finetuned, stacked", Stacked("fused-tvr + finetuned", fused, tuned)),
        };
        foreach (var (name, recipe) in variants)
        {
            var cv = RepeatedCrossValidation.Run(docs, k, repeats, o.Seed, recipe, o.ReviewTargetAccuracy, ct).Estimate;
            Console.WriteLine($"{name}: {FusedEstimate.Describe(cv)} [{k}-fold x {repeats}]");
        }
        return 0;
    }

    /// <summary>softmax(wa log a + wb log b) over the classes either gives a non-zero probability.</summary>
    private static float[] Combine(float[] a, float[] b, double wa, double wb)
    {
        var logits = a.Zip(b, (x, y) => x <= 0 || y <= 0 ? double.NegativeInfinity : wa * Math.Log(x) + wb * Math.Log(y)).ToArray();
        var max = logits.Max();
        if (double.IsNegativeInfinity(max)) return a;
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        var sum = e.Sum();
        return e.Select(v => (float)(v / sum)).ToArray();
    }

}

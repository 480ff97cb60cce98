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
/// <c>augprobe [--copies K] [--cache FILE]</c>: whether augmented copies of each page help the frozen region features.
/// Each page is drawn K times with the fine-tuning bench's document augmentations (<see cref="PageAugmenter"/>: small
/// rotation, shear, scale and shift, contrast, binarisation, scanner noise) and each copy goes through the production
/// region encoder (11 regions, ResNet18). Measured by the same repeated k-fold as <c>crossvalidate</c>:
/// <list type="bullet">
/// <item>test-time averaging: every page's region features are the mean over the page and its copies (train and test
/// alike: a page's features depend on that page only);</item>
/// <item>training copies: the region view of each fold is refitted on the training pages and their copies, with the
/// regularisation and the view weights chosen on the pages alone (leave-one-out over copies of the same page would
/// leak), and the test pages scored as they are, or averaged.</item>
/// </list>
/// </summary>
internal sealed class AugmentationProbeCommand(TrainingDataLoader loader, Dsdc.Ingestion.DocumentStore documents, IDocumentInspector inspector,
    IImagePreprocessor preprocessor, OnnxSessionFactory sessions, DsdcPaths paths, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "augprobe";
    public string Usage => "[--copies K] [--cache FILE]  augmented copies of each page for the region features: averaged, or as training rows";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var copies = cli.Int("--copies") ?? 4;
        TorchDevice.Choose(false, o.Threads);
        var docs = await loader.LoadAllAsync(ct);
        RegionSubset.RequireEveryRegion(docs);
        if (docs.Any(d => d.Inputs.Regions is null))
        {
            Console.Error.WriteLine("Some documents have no region features: run the embedding stage first.");
            return 1;
        }
        var augmented = await AugmentedFeaturesAsync(docs, copies, cli.Value("--cache"), ct);

        void Report(string name, CvRecipe recipe, IReadOnlyList<LabelledPage> pages)
        {
            var cv = RepeatedCrossValidation.Run(pages, o.CvFolds, o.CvRepeats, o.Seed, recipe, o.ReviewTargetAccuracy, ct).Estimate;
            Console.WriteLine($"{name,-40} {FusedEstimate.Describe(cv)}");
        }

        var regionsOnly = CvRecipes.Fused(ViewKinds.Regions);
        var production = CvRecipes.TextVectorRegions;
        var averaged = docs.Select((d, i) => d with { Inputs = d.Inputs with { Regions = Mean([d.Inputs.Regions!, .. augmented[i]]) } }).ToList();
        var copiesOf = docs.Select((d, i) => (d.DocumentId, Copies: augmented[i])).ToDictionary(x => x.DocumentId, x => x.Copies);

        Report("regions alone", CvRecipes.FusedRecipe(regionsOnly), docs);
        Report("regions alone, averaged", CvRecipes.FusedRecipe(regionsOnly), averaged);
        Report("regions alone, training copies", WithTrainingCopies(regionsOnly, copiesOf, ct), docs);
        Report("fused-tvr", CvRecipes.FusedRecipe(production), docs);
        Report("fused-tvr, regions averaged", CvRecipes.FusedRecipe(production), averaged);
        Report("fused-tvr, training copies", WithTrainingCopies(production, copiesOf, ct), docs);
        Report("fused-tvr, training copies, averaged test", WithTrainingCopies(production, copiesOf, ct, averageTest: true), docs);
        return 0;
    }

    /// <summary>The fused recipe, then its region view refitted with each training page's copies as extra rows (same
    /// regularisation, same view weights and calibration).</summary>
    private static CvRecipe WithTrainingCopies(FusedParameters parameters, IReadOnlyDictionary<string, float[][]> copiesOf, CancellationToken ct,
        bool averageTest = false) => (train, test, token) =>
    {
        var model = FusedModel.Train(parameters, train, ct);
        var views = model.Views.Select(v =>
        {
            if (v.View != ViewKinds.Regions) return v;
            var rows = train.SelectMany(t => new[] { t.Inputs.Regions! }.Concat(copiesOf[t.DocumentId])).ToList();
            var labels = train.SelectMany(t => Enumerable.Repeat(t.Label, 1 + copiesOf[t.DocumentId].Length)).ToList();
            return v with { Ridge = RidgeView.Fit(rows, labels, standardize: true, alphas: [v.Ridge.Alpha]) };
        }).ToList();
        var refitted = new FusedModel(views, model.KnownClasses, model.Calibration);
        return refitted.Predict(test.Select(t => averageTest
            ? t.Inputs with { Regions = Mean([t.Inputs.Regions!, .. copiesOf[t.DocumentId]]) }
            : t.Inputs).ToList());
    };

    private static float[] Mean(IReadOnlyList<float[]> rows)
    {
        var mean = new float[rows[0].Length];
        foreach (var r in rows)
            for (var j = 0; j < mean.Length; j++) mean[j] += r[j] / rows.Count;
        return mean;
    }

    /// <summary>K augmented copies of each page through the region encoder, read from or written to <paramref name="cache"/>.</summary>
    private async Task<float[][][]> AugmentedFeaturesAsync(IReadOnlyList<LabelledPage> docs, int copies, string? cache, CancellationToken ct)
    {
        var dims = docs[0].Inputs.Regions!.Length;
        if (cache is not null && File.Exists(cache))
        {
            using var reader = new BinaryReader(File.OpenRead(cache));
            if (reader.ReadInt32() == docs.Count && reader.ReadInt32() == copies && reader.ReadInt32() == dims)
            {
                Console.WriteLine($"augmented features read from {cache}");
                return docs.Select(_ => Enumerable.Range(0, copies).Select(_ => Enumerable.Range(0, dims).Select(_ => reader.ReadSingle()).ToArray()).ToArray()).ToArray();
            }
        }

        using var resnet = new ResNet18ImageEncoder(sessions, Path.Combine(EncoderCatalog.BundledModelsDir, "resnet18"));
        var augmenter = new PageAugmenter(42);
        var result = new float[docs.Count][][];
        var watch = Stopwatch.StartNew();
        double worstParity = 0;
        for (var i = 0; i < docs.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var (path, format) = await documents.StoredFileAsync(docs[i].DocumentId, paths, inspector, ct);
            var rgb = ((ImagePreprocessor)preprocessor).PageRgb(path, format, PageRegions.BaseWidth, PageRegions.BaseHeight);
            if (i < 3) worstParity = Math.Max(worstParity, Encode(resnet, rgb, ct).Zip(docs[i].Inputs.Regions!, (a, b) => Math.Abs(a - b)).Max());
            byte[][] pages;
            using (NewDisposeScope())
            {
                var planar = tensor(rgb.Select(b => (float)b).ToArray(), [1, PageRegions.BaseHeight, PageRegions.BaseWidth, 3]).permute(0, 3, 1, 2);
                var drawn = augmenter.Apply(planar.expand(copies, -1, -1, -1).contiguous());
                var interleaved = drawn.round().clamp(0, 255).permute(0, 2, 3, 1).contiguous().to(ScalarType.Byte);
                pages = Enumerable.Range(0, copies).Select(k => interleaved[k].flatten().data<byte>().ToArray()).ToArray();
            }
            result[i] = pages.Select(p => Encode(resnet, p, ct)).ToArray();
        }
        Console.WriteLine($"{docs.Count} pages x {copies} copies through the region encoder in {watch.Elapsed.TotalSeconds:F0} s; " +
            $"the unaugmented path against the stored features: max |difference| {worstParity:G3}");

        if (cache is not null)
        {
            using var writer = new BinaryWriter(File.Create(cache));
            writer.Write(docs.Count);
            writer.Write(copies);
            writer.Write(dims);
            foreach (var page in result)
                foreach (var copy in page)
                    foreach (var v in copy) writer.Write(v);
        }
        return result;
    }

    /// <summary>The 11 region features of a page drawn at the regions' base size, as the production region encoder computes them.</summary>
    internal static float[] Encode(ResNet18ImageEncoder resnet, byte[] rgb, CancellationToken ct)
    {
        var parts = resnet.Encode(PageRegions.Cut(rgb, PageRegions.AllRegions).Select(r => new RgbImage(PageRegions.Size, PageRegions.Size, r)).ToList(), ct);
        return parts.SelectMany(p => p).ToArray();
    }
}

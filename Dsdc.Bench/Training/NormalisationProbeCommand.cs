using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>normprobe DIR [--cache FILE]</c>: whether the region features carry better from one collection to another when the
/// page is normalised before the network sees it. Each collection has its own scanner, paper tone and contrast, and the
/// stored region features see the page as it was scanned. Here the same 11 regions are computed again through the
/// production encoder from the page turned grey (the control: most scans are grey already), binarised at Otsu's
/// threshold, and with its grey levels stretched so that its 1st and 99th percentiles become black and white;
/// <c>fused-tvr</c> and the regions alone are then measured with each set, by stratified k-fold and by leaving one
/// source (a top folder of DIR) out.
/// </summary>
internal sealed class NormalisationProbeCommand(TrainingDataLoader loader, Dsdc.Ingestion.DocumentStore documents, IDocumentInspector inspector,
    IImagePreprocessor preprocessor, OnnxSessionFactory sessions, DsdcPaths paths, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "normprobe";
    public string Usage => "DIR [--cache FILE]  region features of the binarised or contrast-stretched page, within and across collections";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var positional = cli.Positional("--cache");
        if (positional.Count < 1 || !Directory.Exists(positional[0]))
        {
            Console.Error.WriteLine($"Usage: normprobe {Usage}");
            return 2;
        }
        var o = options.Value;
        var sourceOf = await CrossSourceCommand.SourcesAsync(positional[0], ct);
        var docs = (await loader.LoadAllAsync(ct)).Where(d => sourceOf.ContainsKey(d.DocumentId)).ToList();
        if (docs.Count < 4 || docs.Any(d => d.Inputs.Regions is null) || docs.Select(d => sourceOf[d.DocumentId]).Distinct(StringComparer.Ordinal).Count() < 2)
        {
            Console.Error.WriteLine("normprobe needs the labelled corpus of DIR, from two sources or more, ingested with its region features.");
            return 1;
        }
        RegionSubset.RequireEveryRegion(docs);
        var sets = await FeaturesAsync(docs, cli.Value("--cache"), ct);

        foreach (var (name, regions) in new (string, Func<LabelledPage, float[]>)[]
            { ("as stored", d => d.Inputs.Regions!), ("grey", d => sets[d.DocumentId][2]), ("binarised", d => sets[d.DocumentId][0]), ("stretched", d => sets[d.DocumentId][1]) })
        {
            var pages = docs.Select(d => d with { Inputs = d.Inputs with { Regions = regions(d) } }).ToList();
            foreach (var (recipeName, views) in new (string, string[])[]
                { ("regions", [ViewKinds.Regions]), ("fused-tvr", [ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions]) })
            {
                var recipe = CvRecipes.FusedRecipe(CvRecipes.Fused(views));
                var cv = RepeatedCrossValidation.Run(pages, RepeatedCrossValidation.FoldsFor(pages.Count, o.CvFolds), o.CvRepeats, o.Seed, recipe, o.ReviewTargetAccuracy, ct).Estimate;
                var across = CrossSourceCommand.LeaveOneSourceOut(pages, sourceOf, recipe, perSource: false, ct);
                Console.WriteLine($"{name,-10} {recipeName,-9} {FusedEstimate.Describe(cv)}; leave one source out " +
                    $"{across.Accuracy.ToString("P1", System.Globalization.CultureInfo.InvariantCulture)} (macro-F1 {across.MacroF1:F3})");
            }
        }
        return 0;
    }

    private async Task<Dictionary<string, float[][]>> FeaturesAsync(IReadOnlyList<LabelledPage> docs, string? cache, CancellationToken ct)
    {
        if (cache is not null && File.Exists(cache))
            return ProbeCache.Covering(System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, float[][]>>(File.ReadAllText(cache))!, docs, cache);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var resnet = new ResNet18ImageEncoder(sessions, Path.Combine(EncoderCatalog.BundledModelsDir, "resnet18"));
        var result = new Dictionary<string, float[][]>(StringComparer.Ordinal);
        double worst = 0; // over the first 3 pages
        foreach (var d in docs)
        {
            var (path, format) = await documents.StoredFileAsync(d.DocumentId, paths, inspector, ct);
            var rgb = ((ImagePreprocessor)preprocessor).PageRgb(path, format, PageRegions.BaseWidth, PageRegions.BaseHeight);
            if (result.Count < 3) worst = Math.Max(worst, AugmentationProbeCommand.Encode(resnet, rgb, ct).Zip(d.Inputs.Regions!, (a, b) => Math.Abs(a - b)).Max());
            result[d.DocumentId] = [AugmentationProbeCommand.Encode(resnet, Binarised(rgb), ct), AugmentationProbeCommand.Encode(resnet, Stretched(rgb), ct), AugmentationProbeCommand.Encode(resnet, Expand(Grey(rgb)), ct)];
        }
        Console.WriteLine($"normalised region features of {docs.Count} pages in {watch.Elapsed.TotalSeconds:F0} s; " +
            $"the unchanged page against the stored features (3 pages): max |difference| {worst:G3}");
        if (cache is not null) File.WriteAllText(cache, System.Text.Json.JsonSerializer.Serialize(result));
        return result;
    }

    internal static byte[] Grey(byte[] rgb)
    {
        var grey = new byte[rgb.Length / 3];
        for (var i = 0; i < grey.Length; i++) grey[i] = (byte)((rgb[3 * i] * 299 + rgb[3 * i + 1] * 587 + rgb[3 * i + 2] * 114) / 1000);
        return grey;
    }

    internal static byte[] Expand(byte[] grey)
    {
        var rgb = new byte[grey.Length * 3];
        for (var i = 0; i < grey.Length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
        return rgb;
    }

    /// <summary>Black ink on white paper at Otsu's threshold.</summary>
    internal static byte[] Binarised(byte[] rgb)
    {
        var grey = Grey(rgb);
        var threshold = RunLengthHistograms.Otsu(grey);
        return Expand(grey.Select(g => g < threshold ? (byte)0 : (byte)255).ToArray());
    }

    /// <summary>The grey levels stretched so that the 1st percentile becomes black and the 99th white.</summary>
    internal static byte[] Stretched(byte[] rgb)
    {
        var grey = Grey(rgb);
        var sorted = grey.Order().ToArray();
        int low = sorted[sorted.Length / 100], high = sorted[sorted.Length * 99 / 100];
        if (high <= low) return Expand(grey);
        return Expand(grey.Select(g => (byte)Math.Clamp((g - low) * 255 / (high - low), 0, 255)).ToArray());
    }
}

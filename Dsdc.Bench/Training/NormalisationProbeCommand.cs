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
/// With <c>--crop</c> the sets are instead the page cut to its content (the box that holds 99% of its ink, scanner
/// borders left out, with a 3% margin), stretched to the base size or widened to the base aspect first; the scanned
/// margins differ from page to page and from collection to collection, so the same header falls in a different place of
/// each region. <c>fused-tvrc</c> (production) is measured with each set.
/// </summary>
internal sealed class NormalisationProbeCommand(TrainingDataLoader loader, Dsdc.Ingestion.DocumentStore documents, IDocumentInspector inspector,
    IImagePreprocessor preprocessor, OnnxSessionFactory sessions, DsdcPaths paths, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "normprobe";
    public string Usage => "DIR [--cache FILE] [--crop]  region features of the binarised, contrast-stretched or content-cropped page, within and across collections";

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
        var crop = cli.Flag("--crop");
        var sets = await FeaturesAsync(docs, cli.Value("--cache"), crop, ct);

        var variants = crop
            ? new (string, Func<LabelledPage, float[]>)[] { ("as stored", d => d.Inputs.Regions!), ("cropped", d => sets[d.DocumentId][0]), ("crop-aspect", d => sets[d.DocumentId][1]) }
            : [("as stored", d => d.Inputs.Regions!), ("grey", d => sets[d.DocumentId][2]), ("binarised", d => sets[d.DocumentId][0]), ("stretched", d => sets[d.DocumentId][1])];
        var recipes = crop
            ? new (string, string[])[] { ("regions", [ViewKinds.Regions]), ("fused-tvrc", [.. CvRecipes.Production.Views.Select(v => v.View)]) }
            : [("regions", [ViewKinds.Regions]), ("fused-tvr", [ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions])];
        foreach (var (name, regions) in variants)
        {
            var pages = docs.Select(d => d with { Inputs = d.Inputs with { Regions = regions(d) } }).ToList();
            foreach (var (recipeName, views) in recipes)
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

    private async Task<Dictionary<string, float[][]>> FeaturesAsync(IReadOnlyList<LabelledPage> docs, string? cache, bool crop, CancellationToken ct)
    {
        if (cache is not null && File.Exists(cache))
            return ProbeCache.Covering(System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, float[][]>>(File.ReadAllText(cache))!, docs, cache);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var resnet = new ResNet18ImageEncoder(sessions, Path.Combine(EncoderCatalog.BundledModelsDir, "resnet18"));
        var result = new Dictionary<string, float[][]>(StringComparer.Ordinal);
        double worst = 0; // over the first 3 pages
        var boxes = new List<double>();
        foreach (var d in docs)
        {
            var (path, format) = await documents.StoredFileAsync(d.DocumentId, paths, inspector, ct);
            var rgb = ((ImagePreprocessor)preprocessor).PageRgb(path, format, PageRegions.BaseWidth, PageRegions.BaseHeight);
            if (crop)
            {
                var large = ((ImagePreprocessor)preprocessor).PageRgb(path, format, 2 * PageRegions.BaseWidth, 2 * PageRegions.BaseHeight);
                var box = ContentBox(large, 2 * PageRegions.BaseWidth, 2 * PageRegions.BaseHeight);
                boxes.Add((double)(box.X1 - box.X0) * (box.Y1 - box.Y0) / (4.0 * PageRegions.BaseWidth * PageRegions.BaseHeight));
                result[d.DocumentId] = [AugmentationProbeCommand.Encode(resnet, Cut(large, box, aspect: false), ct), AugmentationProbeCommand.Encode(resnet, Cut(large, box, aspect: true), ct)];
                continue;
            }
            if (result.Count < 3) worst = Math.Max(worst, AugmentationProbeCommand.Encode(resnet, rgb, ct).Zip(d.Inputs.Regions!, (a, b) => Math.Abs(a - b)).Max());
            result[d.DocumentId] = [AugmentationProbeCommand.Encode(resnet, Binarised(rgb), ct), AugmentationProbeCommand.Encode(resnet, Stretched(rgb), ct), AugmentationProbeCommand.Encode(resnet, Expand(Grey(rgb)), ct)];
        }
        if (crop)
            Console.WriteLine($"content boxes: median {Median(boxes):P0} of the page, {boxes.Count(b => b > 0.97)} pages not cut");
        Console.WriteLine($"normalised region features of {docs.Count} pages in {watch.Elapsed.TotalSeconds:F0} s; " +
            $"the unchanged page against the stored features (3 pages): max |difference| {worst:G3}");
        if (cache is not null) File.WriteAllText(cache, System.Text.Json.JsonSerializer.Serialize(result));
        return result;
    }

    private static double Median(List<double> values) => values.Count == 0 ? 0 : values.Order().ElementAt(values.Count / 2);

    /// <summary>
    /// The box that holds the page's content: ink is darker than Otsu's threshold; rows and columns more than 60% ink are
    /// a scanner's black border and are left out; the box spans the 0.5th to 99.5th percentile of the remaining ink along
    /// each axis (so a speck in the margin does not widen it), plus 3% of the page on each side. A box under a fifth of
    /// either side (a blank page) is the whole page.
    /// </summary>
    internal static (int X0, int Y0, int X1, int Y1) ContentBox(byte[] rgb, int width, int height)
    {
        var grey = Grey(rgb);
        var threshold = RunLengthHistograms.Otsu(grey);
        var rows = new int[height];
        var cols = new int[width];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            if (grey[y * width + x] < threshold) { rows[y]++; cols[x]++; }
        var rowBorder = rows.Select(r => r > 0.6 * width).ToArray();
        var colBorder = cols.Select(c => c > 0.6 * height).ToArray();
        var rowInk = new double[height];
        var colInk = new double[width];
        for (var y = 0; y < height; y++)
        {
            if (rowBorder[y]) continue;
            for (var x = 0; x < width; x++)
                if (!colBorder[x] && grey[y * width + x] < threshold) { rowInk[y]++; colInk[x]++; }
        }
        var (y0, y1) = Span(rowInk);
        var (x0, x1) = Span(colInk);
        if (x1 - x0 < width / 5 || y1 - y0 < height / 5) return (0, 0, width, height);
        int mx = (int)(0.03 * width), my = (int)(0.03 * height);
        return (Math.Max(0, x0 - mx), Math.Max(0, y0 - my), Math.Min(width, x1 + mx), Math.Min(height, y1 + my));
    }

    private static (int From, int To) Span(double[] ink)
    {
        var total = ink.Sum();
        if (total <= 0) return (0, 0);
        double sum = 0;
        int from = -1, to = ink.Length;
        for (var i = 0; i < ink.Length; i++)
        {
            sum += ink[i];
            if (from < 0 && sum > 0.005 * total) from = i;
            if (sum >= 0.995 * total) { to = i + 1; break; }
        }
        return (Math.Max(0, from), to);
    }

    /// <summary>The box of a <paramref name="rgb"/> page at twice the base size, at the base size: stretched, or first widened
    /// about its centre to the base aspect (within the page).</summary>
    internal static byte[] Cut(byte[] rgb, (int X0, int Y0, int X1, int Y1) box, bool aspect)
    {
        int width = 2 * PageRegions.BaseWidth, height = 2 * PageRegions.BaseHeight;
        var (x0, y0, x1, y1) = box;
        if (aspect)
        {
            var target = (double)PageRegions.BaseWidth / PageRegions.BaseHeight;
            double w = x1 - x0, h = y1 - y0;
            if (w / h < target) w = h * target; else h = w / target;
            w = Math.Min(w, width);
            h = Math.Min(h, height);
            double cx = (x0 + x1) / 2.0, cy = (y0 + y1) / 2.0;
            x0 = (int)Math.Clamp(Math.Round(cx - w / 2), 0, width - w);
            y0 = (int)Math.Clamp(Math.Round(cy - h / 2), 0, height - h);
            x1 = x0 + (int)Math.Round(w);
            y1 = y0 + (int)Math.Round(h);
        }
        return PageRegions.Resize(rgb, width, x0, y0, x1, y1, PageRegions.BaseWidth, PageRegions.BaseHeight);
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

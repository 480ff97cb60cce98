using System.Collections.Concurrent;
using System.Globalization;
using Dsdc.ImageProcessing;
using Dsdc.ImageProcessing.Native;
using Dsdc.Ocr;
using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

/// <summary>
/// <c>orientprobe [--below C] [--margin M]</c>: how many labelled pages lie on their side, and what reading them upright
/// would give. Every raster page whose stored OCR confidence is below C is OCR'd again turned a quarter turn each way;
/// where a turn raises Tesseract's mean confidence by more than M, its text replaces the page's, and <c>fused-tvr</c>
/// is cross-validated with and without the replacement (the image views unchanged).
/// </summary>
internal sealed class OrientationProbeCommand(TrainingDataLoader loader, Dsdc.Ingestion.DocumentStore documents, IDocumentInspector inspector,
    ImageDecoder decoder, TesseractEnginePool pool, DsdcPaths paths, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "orientprobe";
    public string Usage => "[--below C] [--margin M]  pages on their side: OCR turned a quarter turn, by cross-validation";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var below = cli.Int("--below") ?? 70;
        var margin = cli.Int("--margin") ?? 10;
        var ratio = cli.Value("--ratio") is { } rv ? double.Parse(rv, CultureInfo.InvariantCulture) : 2;
        var cache = cli.Value("--cache");
        var docs = await loader.LoadAllAsync(ct);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var results = new ConcurrentDictionary<string, (int C0, int C90, int C270, string T0, string T90, string T270)>();
        var candidates = new List<(LabelledPage Doc, string Path, DocumentFormat Format)>();
        foreach (var d in docs)
        {
            var (path, format) = await documents.StoredFileAsync(d.DocumentId, paths, inspector, ct);
            if (format != DocumentFormat.Pdf) candidates.Add((d, path, format));
        }
        if (cache is not null && File.Exists(cache))
            foreach (var (k, v) in System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string[]>>(File.ReadAllText(cache))!)
                results[k] = (int.Parse(v[0], CultureInfo.InvariantCulture), int.Parse(v[1], CultureInfo.InvariantCulture), int.Parse(v[2], CultureInfo.InvariantCulture), v[3], v[4], v[5]);
        else await Parallel.ForEachAsync(candidates, new ParallelOptions { MaxDegreeOfParallelism = pool.Size, CancellationToken = ct }, async (c, token) =>
        {
            using var page = decoder.DecodeFirstPage(decoder.ReadFile(c.Path), c.Format);
            var (input, resolution, scaled) = OcrResolution.Prepare(page, 0, long.MaxValue);
            using (scaled ? input : null)
            {
                var r0 = await pool.RunAsync(e => e.Recognise(input, resolution), token);
                if (r0.Confidence >= below)
                {
                    results[c.Doc.DocumentId] = (r0.Confidence, -1, -1, r0.Text, "", "");
                    return;
                }
                using var turned90 = Pix.Required(Leptonica.pixRotateOrth(input, 1), "pixRotateOrth");
                using var turned270 = Pix.Required(Leptonica.pixRotateOrth(input, 3), "pixRotateOrth");
                var r90 = await pool.RunAsync(e => e.Recognise(turned90, resolution), token);
                var r270 = await pool.RunAsync(e => e.Recognise(turned270, resolution), token);
                results[c.Doc.DocumentId] = (r0.Confidence, r90.Confidence, r270.Confidence, r0.Text, r90.Text, r270.Text);
            }
        });
        if (cache is not null && !File.Exists(cache))
            File.WriteAllText(cache, System.Text.Json.JsonSerializer.Serialize(results.ToDictionary(r => r.Key, r => new[]
                { r.Value.C0.ToString(CultureInfo.InvariantCulture), r.Value.C90.ToString(CultureInfo.InvariantCulture), r.Value.C270.ToString(CultureInfo.InvariantCulture), r.Value.T0, r.Value.T90, r.Value.T270 })));
        Console.WriteLine($"{candidates.Count} raster pages, {results.Count(r => r.Value.C90 >= 0)} below confidence {below} OCR'd turned, in {watch.Elapsed.TotalSeconds:F0} s");

        var turned = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in docs)
        {
            if (!results.TryGetValue(d.DocumentId, out var r) || r.C90 < 0) continue;
            // Tesseract is confident about the little it finds on a page read the wrong way, so the turn must also read
            // more words: confidence times the words of three letters or more.
            double Score(int confidence, string text) => confidence * (double)Words(text);
            var best = Score(r.C90, r.T90) >= Score(r.C270, r.T270) ? (r.C90, r.T90, 90) : (r.C270, r.T270, 270);
            if (Score(best.Item1, best.Item2) > ratio * Math.Max(1, Score(r.C0, r.T0)) && Words(best.Item2) >= 5 && best.Item1 > r.C0 + margin)
            {
                turned[d.DocumentId] = best.Item2;
                Console.WriteLine($"  {DocumentClasses.Names[d.Label],-24} {d.DocumentId[..8]} confidence {r.C0} -> {best.Item1} turned {best.Item3}; " +
                    $"words {Words(r.T0)} -> {Words(best.Item2)}");
            }
        }
        Console.WriteLine($"{turned.Count} pages read better turned (confidence up by more than {margin})");

        void Estimate(string name, IReadOnlyList<LabelledPage> pages, params string[] views) => FusedEstimate.Print(name, pages, o, ct, views);
        var fixedDocs = docs.Select(d => turned.TryGetValue(d.DocumentId, out var t) ? d with { Inputs = d.Inputs with { RawText = t } } : d).ToList();
        Estimate("text, stored", docs, ViewKinds.Text);
        Estimate("text, turned pages upright", fixedDocs, ViewKinds.Text);
        Estimate("fused-tvr, stored", docs, ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions);
        Estimate("fused-tvr, turned pages' text", fixedDocs, ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions);
        return 0;
    }

    private static int Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Count(w => w.Count(char.IsLetter) >= 3);
}

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
/// <c>imageprobe [--width W] [--height H] [--only a,b]</c>: which frozen ResNet18 features of a page carry its class. The page is
/// fed whole at W x H (448 x 576: twice the detail of the encoder's 224 x 224), and the feature maps of stages 2-4 are
/// pooled globally (mean, max) and over grids; each pooling is estimated by the same repeated k-fold as
/// <c>crossvalidate</c>, alone, in place of the stored region features in <c>fused-tvr</c>, and beside them.
/// </summary>
internal sealed class ImageProbeCommand(TrainingDataLoader loader, Dsdc.Ingestion.DocumentStore documents, IDocumentInspector inspector,
    IImagePreprocessor preprocessor, DsdcPaths paths, IOptions<TrainingOptions> options) : ICliCommand
{
    public string Name => "imageprobe";
    public string Usage => "[--width W] [--height H] [--only a,b]  frozen ResNet18 feature maps of the whole page, pooled, by cross-validation";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var o = options.Value;
        var (width, height) = (cli.Int("--width") ?? 448, cli.Int("--height") ?? 576);
        TorchDevice.Choose(false, o.Threads);
        var docs = await loader.LoadAllAsync(ct);
        using var net = ResNet18.FromBundled();
        net.eval();

        var poolings = new (string Name, int Stage, Func<Tensor, Tensor> Pool)[]
        {
            ("s4-mean", 4, t => t.mean([2L, 3L])),
            ("s4-max", 4, t => t.amax([2L, 3L])),
            ("s4-grid2", 4, t => nn.functional.adaptive_avg_pool2d(t, [2, 2])),
            ("s4-grid3", 4, t => nn.functional.adaptive_avg_pool2d(t, [3, 3])),
            ("s3-mean", 3, t => t.mean([2L, 3L])),
            ("s3-max", 3, t => t.amax([2L, 3L])),
            ("s3-grid3", 3, t => nn.functional.adaptive_avg_pool2d(t, [3, 3])),
            ("s3-grid4", 3, t => nn.functional.adaptive_avg_pool2d(t, [4, 4])),
            ("s2-grid4", 2, t => nn.functional.adaptive_avg_pool2d(t, [4, 4])),
        };
        if (cli.Value("--only") is { } only) poolings = poolings.Where(p => only.Split(',').Contains(p.Name)).ToArray();
        var features = poolings.ToDictionary(p => p.Name, _ => new float[docs.Count][]);

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < docs.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var (path, format) = await documents.StoredFileAsync(docs[i].DocumentId, paths, inspector, ct);
            var rgb = ((ImagePreprocessor)preprocessor).PageRgb(path, format, width, height);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var stages = net.Stages(ResNet18.Input([rgb], width, height));
            foreach (var (name, stage, pool) in poolings)
                features[name][i] = pool(stages[stage - 1]).flatten().data<float>().ToArray();
        }
        Console.WriteLine($"{docs.Count} pages at {width}x{height} through ResNet18 in {watch.Elapsed.TotalSeconds:F1} s " +
            $"({watch.Elapsed.TotalMilliseconds / docs.Count:F0} ms per page)");

        void Estimate(string name, IReadOnlyList<LabelledPage> pages, params string[] views) => FusedEstimate.Print(name, pages, o, ct, views);
        Estimate("stored regions alone", docs, ViewKinds.Regions);
        Estimate("fused-tvr (stored regions)", docs, ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions);
        foreach (var (name, _, _) in poolings)
        {
            var f = features[name];
            List<LabelledPage> With(Func<int, float[]> regions) =>
                docs.Select((d, i) => d with { Inputs = d.Inputs with { Regions = regions(i) } }).ToList();
            Estimate($"{name} alone", With(i => f[i]), ViewKinds.Regions);
            Estimate($"tv + {name}", With(i => f[i]), ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions);
            Estimate($"tv + regions ++ {name}", With(i => [.. docs[i].Inputs.Regions!, .. f[i]]), ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions);
        }
        return 0;
    }
}

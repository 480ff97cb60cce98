using Dsdc.Shared;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dsdc.Training.FineTuning;

/// <summary>How a ResNet is fine-tuned: its last stage (or none, for a linear probe of the frozen features) and a new
/// linear head, with AdamW, class-balanced label-smoothed cross-entropy, batch-norm statistics frozen.</summary>
public sealed record FineTuneSettings(int Epochs = 4, int BatchSize = 32, double StageLearningRate = 1e-4, double HeadLearningRate = 1e-3,
    double WeightDecay = 1e-4, bool TrainLastStage = true, double LabelSmoothing = 0.1, int Seed = 42);

/// <summary>
/// The frozen part of the network run once: the output of the first three stages for every page, unaugmented (index 0)
/// and in <c>augmentations - 1</c> augmented copies, so that each fold trains only the last stage and the head.
/// </summary>
public sealed class TrunkCache : IDisposable
{
    public const int FrozenStages = 3;
    private readonly Tensor _cache;

    public int Pages { get; }
    public int Augmentations { get; }

    private TrunkCache(Tensor cache, int pages, int augmentations)
    {
        _cache = cache;
        Pages = pages;
        Augmentations = augmentations;
    }

    /// <param name="toTensor">Planar RGB 0-255 [N, 3, 224, 224] of the given pages.</param>
    public static TrunkCache Build(ResNet18 net, int pages, Func<IReadOnlyList<int>, Tensor> toTensor, int augmentations, int seed, CancellationToken ct)
    {
        var augmenter = new PageAugmenter(seed);
        var parts = new List<Tensor>();
        net.eval();
        using (no_grad())
        {
            for (var start = 0; start < pages; start += 16)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var batch = Enumerable.Range(start, Math.Min(16, pages - start)).ToList();
                var x = toTensor(batch);
                var views = new List<Tensor> { net.Trunk(x, FrozenStages) };
                for (var a = 1; a < augmentations; a++) views.Add(net.Trunk(augmenter.Apply(x), FrozenStages));
                // [B, A, C, H, W]
                parts.Add(stack(views, 1).MoveToOuterDisposeScope());
            }
        }
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return new TrunkCache(all.flatten(0, 1), pages, augmentations);
    }

    /// <summary>The cached outputs of (page, augmentation) pairs.</summary>
    public Tensor Rows(IReadOnlyList<(int Page, int Augmentation)> rows) =>
        _cache.index_select(0, tensor(rows.Select(r => (long)(r.Page * Augmentations + r.Augmentation)).ToArray()));

    public void Dispose() => _cache.Dispose();
}

/// <summary>Fine-tunes the last stage of a <see cref="ResNet18"/> and a linear head on labelled pages of a <see cref="TrunkCache"/>.</summary>
public static class FineTuner
{
    /// <summary>Trains on <paramref name="train"/> (page index, class) and returns class probabilities of the unaugmented
    /// <paramref name="test"/> pages; classes absent from the training side get probability 0.</summary>
    public static float[][] FitPredict(Func<ResNet18> pretrained, TrunkCache cache, IReadOnlyList<(int Page, int Label)> train,
        IReadOnlyList<int> test, FineTuneSettings settings, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        manual_seed(settings.Seed);
        var net = pretrained();
        net.eval();
        foreach (var p in net.parameters()) p.requires_grad = false;
        var stage = net.Layers[TrunkCache.FrozenStages];
        if (settings.TrainLastStage)
            foreach (var p in stage.parameters()) p.requires_grad = true;
        var head = Linear(ResNet18.FeatureDimensions, DocumentClasses.Count);
        var headOptimizer = optim.AdamW(head.parameters(), settings.HeadLearningRate, weight_decay: settings.WeightDecay);
        var stageOptimizer = settings.TrainLastStage ? optim.AdamW(stage.parameters(), settings.StageLearningRate, weight_decay: settings.WeightDecay) : null;

        var counts = new int[DocumentClasses.Count];
        foreach (var (_, label) in train) counts[label]++;
        var present = counts.Count(c => c > 0);
        var weights = tensor(counts.Select(c => c == 0 ? 0f : (float)train.Count / (present * c)).ToArray());
        var mask = tensor(counts.Select(c => c == 0 ? float.NegativeInfinity : 0f).ToArray());

        var samples = train.SelectMany(t => Enumerable.Range(0, cache.Augmentations).Select(a => (t.Page, a, t.Label))).ToList();
        var random = new Random(settings.Seed);
        for (var epoch = 0; epoch < settings.Epochs; epoch++)
        {
            var order = samples.OrderBy(_ => random.Next()).ToList();
            for (var start = 0; start < order.Count; start += settings.BatchSize)
            {
                ct.ThrowIfCancellationRequested();
                using var step = NewDisposeScope();
                var batch = order.Skip(start).Take(settings.BatchSize).ToList();
                var x = cache.Rows(batch.Select(b => (b.Page, b.a)).ToList());
                var logits = head.forward(settings.TrainLastStage ? net.Head(x, TrunkCache.FrozenStages) : Pooled(net, x)) + mask;
                var y = tensor(batch.Select(b => (long)b.Label).ToArray());
                var loss = functional.cross_entropy(logits, y, weights, label_smoothing: settings.LabelSmoothing);
                headOptimizer.zero_grad();
                stageOptimizer?.zero_grad();
                loss.backward();
                headOptimizer.step();
                stageOptimizer?.step();
            }
        }

        var result = new float[test.Count][];
        using (no_grad())
        {
            for (var start = 0; start < test.Count; start += 64)
            {
                using var step = NewDisposeScope();
                var batch = test.Skip(start).Take(64).ToList();
                var x = cache.Rows(batch.Select(p => (p, 0)).ToList());
                var probabilities = functional.softmax(head.forward(net.Head(x, TrunkCache.FrozenStages)) + mask, 1).data<float>().ToArray();
                for (var i = 0; i < batch.Count; i++)
                    result[start + i] = probabilities.AsSpan(i * DocumentClasses.Count, DocumentClasses.Count).ToArray();
            }
        }
        net.Dispose();
        head.Dispose();
        return result;
    }

    private static Tensor Pooled(ResNet18 net, Tensor x)
    {
        using (no_grad()) return net.Head(x, TrunkCache.FrozenStages);
    }
}

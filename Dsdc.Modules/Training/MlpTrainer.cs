using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Dsdc.Training;

public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double? ValidationLoss, double? ValidationAccuracy, double DurationMs);

/// <summary>How a network trains; <paramref name="WeightDecay"/> is Adam's L2 penalty (0 = none, the MLPs' default).</summary>
public sealed record TrainingSettings(int Epochs, int BatchSize, int Patience, int Seed, bool UseCuda = false, int Threads = 0, double WeightDecay = 0);

/// <summary>
/// Trains an MLP with TorchSharp: class-weighted cross-entropy (imbalance), Adam, mini-batches shuffled by the seed,
/// early stopping on the validation loss with the best epoch's weights kept. Runs only in the training job and CLI.
/// </summary>
public static class MlpTrainer
{
    public static TrainedMlp Train(MlpParameters parameters, IReadOnlyList<LabelledVector> train, IReadOnlyList<LabelledVector> validation,
        TrainingSettings settings, Action<EpochMetrics>? onEpoch = null, CancellationToken ct = default)
    {
        if (train.Count == 0) throw new ArgumentException("no training examples", nameof(train));
        var device = TorchDevice.Choose(settings.UseCuda, settings.Threads);
        random.manual_seed(settings.Seed);
        var dims = train[0].Vector.Length;
        var model = new MlpModule(dims, Shared.DocumentClasses.Count, parameters);
        try
        {
            model.to(device);
            using var xTrain = Features(train, device);
            using var yTrain = Labels(train, device);
            using var xVal = validation.Count > 0 ? Features(validation, device) : null;
            using var yVal = validation.Count > 0 ? Labels(validation, device) : null;
            using var weights = tensor(ClassWeights(train), device: device);
            using var optimizer = new ScalarSafeAdam(model.parameters(), parameters.LearningRate, weightDecay: settings.WeightDecay);

            var shuffle = new Random(settings.Seed);
            var epochs = new List<EpochMetrics>();
            var best = (Loss: double.PositiveInfinity, Epoch: 0, State: (Dictionary<string, Tensor>?)null);
            var order = Enumerable.Range(0, train.Count).ToArray();
            for (var epoch = 1; epoch <= settings.Epochs; epoch++)
            {
                ct.ThrowIfCancellationRequested();
                var watch = Stopwatch.StartNew();
                model.train();
                shuffle.Shuffle(order);
                double lossSum = 0;
                long correct = 0;
                for (var start = 0; start < order.Length; start += settings.BatchSize)
                {
                    using var scope = NewDisposeScope();
                    var batch = order.AsSpan(start, Math.Min(settings.BatchSize, order.Length - start)).ToArray().Select(i => (long)i).ToArray();
                    var index = tensor(batch, device: device);
                    var x = xTrain.index_select(0, index);
                    var y = yTrain.index_select(0, index);
                    var logits = model.forward(x);
                    var loss = nn.functional.cross_entropy(logits, y, weights);
                    optimizer.ZeroGrad();
                    loss.backward();
                    optimizer.Step();
                    lossSum += loss.item<float>() * batch.Length;
                    correct += logits.argmax(1).eq(y).sum().item<long>();
                }
                var (valLoss, valAccuracy) = xVal is null ? ((double?)null, (double?)null) : Evaluate(model, xVal, yVal!, weights);
                var metrics = new EpochMetrics(epoch, lossSum / train.Count, (double)correct / train.Count, valLoss, valAccuracy,
                    watch.Elapsed.TotalMilliseconds);
                epochs.Add(metrics);
                onEpoch?.Invoke(metrics);

                // Without a validation side (tiny data) the training loss decides.
                var monitored = valLoss ?? metrics.TrainLoss;
                if (monitored < best.Loss - 1e-7)
                {
                    DisposeState(best.State);
                    best = (monitored, epoch, Snapshot(model));
                }
                else if (epoch - best.Epoch >= settings.Patience) break;
            }
            Restore(model, best.State!);
            DisposeState(best.State);
            return new TrainedMlp(model, parameters, dims, epochs, best.Epoch, device.type == DeviceType.CUDA ? "cuda" : "cpu");
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Inverse class frequency, n / (k * count): a rare class weighs as much as a common one in the loss.</summary>
    internal static float[] ClassWeights(IReadOnlyList<LabelledVector> train)
    {
        var counts = new int[Shared.DocumentClasses.Count];
        foreach (var e in train) counts[e.Label]++;
        var present = counts.Count(c => c > 0);
        return counts.Select(c => c == 0 ? 0f : (float)train.Count / (present * c)).ToArray();
    }

    private static (double, double) Evaluate(MlpModule model, Tensor x, Tensor y, Tensor weights)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var logits = model.forward(x);
        var loss = nn.functional.cross_entropy(logits, y, weights).item<float>();
        var accuracy = logits.argmax(1).eq(y).sum().item<long>() / (double)y.shape[0];
        return (loss, accuracy);
    }

    internal static Tensor Features(IReadOnlyList<LabelledVector> rows, Device device) => Features(rows.Select(r => r.Vector).ToList(), device);

    internal static Tensor Features(IReadOnlyList<float[]> rows, Device device)
    {
        var dims = rows[0].Length;
        var flat = new float[rows.Count * dims];
        for (var i = 0; i < rows.Count; i++) rows[i].CopyTo(flat, i * dims);
        return tensor(flat, [rows.Count, dims], device: device);
    }

    private static Tensor Labels(IReadOnlyList<LabelledVector> rows, Device device) =>
        tensor(rows.Select(r => (long)r.Label).ToArray(), device: device);

    private static Dictionary<string, Tensor> Snapshot(MlpModule model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    private static void Restore(MlpModule model, Dictionary<string, Tensor> state)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            parameter.copy_(state[name]);
    }

    private static void DisposeState(Dictionary<string, Tensor>? state)
    {
        if (state is null) return;
        foreach (var t in state.Values) t.Dispose();
    }
}

using static TorchSharp.torch;

namespace Dsdc.Training;

/// <summary>The weights of one dense layer, row-major [Outputs, Inputs] as PyTorch stores them.</summary>
public sealed record DenseLayer(float[] Weight, float[] Bias, int Outputs, int Inputs);

/// <summary>A trained TorchSharp MLP (best epoch's weights): predicts, and gives its weights to the ONNX export.</summary>
public sealed class TrainedMlp(MlpModule model, MlpParameters parameters, int inputs, IReadOnlyList<EpochMetrics> epochs, int bestEpoch, string device)
    : IDisposable
{
    public MlpParameters Parameters => parameters;
    public int Inputs => inputs;
    public IReadOnlyList<EpochMetrics> Epochs => epochs;
    public int BestEpoch => bestEpoch;
    public string Device => device;

    /// <summary>Softmax probabilities per row, in evaluation mode (no dropout).</summary>
    public float[][] Predict(IReadOnlyList<float[]> rows)
    {
        if (rows.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var device = model.parameters().First().device;
        var probabilities = nn.functional.softmax(model.forward(MlpTrainer.Features(rows, device)), 1).cpu();
        var flat = probabilities.data<float>().ToArray();
        var classes = (int)probabilities.shape[1];
        return Enumerable.Range(0, rows.Count).Select(i => flat.AsSpan(i * classes, classes).ToArray()).ToArray();
    }

    public IReadOnlyList<DenseLayer> Layers() => model.Linears.Select(l =>
    {
        using var w = l.weight!.detach().cpu();
        using var b = l.bias!.detach().cpu();
        return new DenseLayer(w.data<float>().ToArray(), b.data<float>().ToArray(), (int)w.shape[0], (int)w.shape[1]);
    }).ToList();

    public void Dispose() => model.Dispose();
}

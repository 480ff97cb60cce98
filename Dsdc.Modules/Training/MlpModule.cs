using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dsdc.Training;

/// <summary>The MLP of <see cref="MlpParameters"/>: Linear + activation + dropout per hidden layer, then Linear to 16 logits.</summary>
public sealed class MlpModule : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> _linears = new();
    private readonly IReadOnlyList<LayerParameters> _layers;

    // Each leaky ReLU's slope as a Scalar this module holds: a number passed as an implicit Scalar is not kept alive
    // during the native call (see ScalarSafeAdam).
    private readonly Scalar[] _slopes;

    public MlpModule(int inputs, int outputs, MlpParameters parameters) : base("mlp")
    {
        _layers = parameters.Layers;
        var width = inputs;
        foreach (var layer in parameters.Layers)
        {
            _linears.Add(nn.Linear(width, layer.Units));
            width = layer.Units;
        }
        _linears.Add(nn.Linear(width, outputs));
        _slopes = parameters.Layers.Select(l => l.Slope.ToScalar()).ToArray();
        RegisterComponents();
    }

    /// <summary>The linear layers in order (the last one makes the logits), for the ONNX export.</summary>
    public IReadOnlyList<Linear> Linears => [.. _linears];

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        for (var i = 0; i < _layers.Count; i++)
        {
            x = _linears[i].forward(x);
            x = _layers[i].Activation == LayerParameters.LeakyRelu
                ? x.leaky_relu(_slopes[i])
                : nn.functional.relu(x);
            if (_layers[i].Dropout > 0) x = nn.functional.dropout(x, _layers[i].Dropout, training);
        }
        return _linears[^1].forward(x).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            foreach (var s in _slopes) s.Dispose();
        base.Dispose(disposing);
    }
}

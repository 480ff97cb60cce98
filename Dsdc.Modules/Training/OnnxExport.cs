namespace Dsdc.Training;

/// <summary>
/// The trained MLP as an ONNX graph: per hidden layer Gemm (transB=1, PyTorch's [out, in] weights) then Relu or
/// LeakyRelu; a last Gemm to the logits, then Softmax. Dropout is an identity at inference and is left out.
/// Input <see cref="InputName"/> [batch, dims] float; output <see cref="OutputName"/> [batch, 16] probabilities.
/// </summary>
public static class OnnxExport
{
    public const string InputName = "features";
    public const string OutputName = "probabilities";

    /// <summary>The output of a graph exported without its softmax (a view of a fused model, whose logits are summed).</summary>
    public const string LogitsName = "logits";
    private const int Opset = 13;

    public static byte[] ToOnnx(IReadOnlyList<DenseLayer> layers, MlpParameters parameters, IReadOnlyDictionary<string, string>? metadata = null,
        bool softmax = true)
    {
        if (layers.Count != parameters.Layers.Count + 1)
            throw new ArgumentException($"{layers.Count} dense layers for {parameters.Layers.Count} hidden layers + 1 output layer");
        var nodes = new List<OnnxWriter>();
        var initializers = new List<OnnxWriter>();
        var x = InputName;
        for (var i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            initializers.Add(OnnxWriter.Tensor($"W{i}", [l.Outputs, l.Inputs], l.Weight));
            initializers.Add(OnnxWriter.Tensor($"B{i}", [l.Outputs], l.Bias));
            var gemm = i == layers.Count - 1 ? LogitsName : $"dense{i}";
            nodes.Add(OnnxWriter.Node("Gemm", $"gemm{i}", [x, $"W{i}", $"B{i}"], gemm, OnnxWriter.IntAttribute("transB", 1)));
            x = gemm;
            if (i == layers.Count - 1) break;
            var hidden = parameters.Layers[i];
            var act = $"act{i}";
            nodes.Add(hidden.Activation == LayerParameters.LeakyRelu
                ? OnnxWriter.Node("LeakyRelu", $"leakyrelu{i}", [x], act, OnnxWriter.FloatAttribute("alpha", (float)hidden.Slope))
                : OnnxWriter.Node("Relu", $"relu{i}", [x], act));
            x = act;
        }
        var output = softmax ? OutputName : LogitsName;
        if (softmax) nodes.Add(OnnxWriter.Node("Softmax", "softmax", [x], OutputName, OnnxWriter.IntAttribute("axis", 1)));

        var graph = new OnnxWriter();
        foreach (var n in nodes) graph.Message(1, n);
        graph.String(2, "dsdc-mlp");
        foreach (var t in initializers) graph.Message(5, t);
        graph.Message(11, OnnxWriter.FloatMatrix(InputName, layers[0].Inputs));
        graph.Message(12, OnnxWriter.FloatMatrix(output, layers[^1].Outputs));

        var model = new OnnxWriter()
            .Varint(1, 8)                                   // ir_version 8 (ONNX 1.10+)
            .String(2, "dsdc-training")                     // producer_name
            .String(3, "1")                                 // producer_version
            .Message(7, graph)
            .Message(8, new OnnxWriter().String(1, "").Varint(2, Opset));
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            model.Message(14, OnnxWriter.Entry(key, value));
        return model.ToArray();
    }
}

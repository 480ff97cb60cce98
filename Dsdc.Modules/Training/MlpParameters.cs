using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dsdc.Training;

/// <summary>One hidden layer in the original's format: units, activation (relu or leaky_relu), slope, dropout.</summary>
public sealed record LayerParameters(
    [property: JsonPropertyName("units")] int Units,
    [property: JsonPropertyName("activation")] string Activation,
    [property: JsonPropertyName("negative_slope")] double? NegativeSlope = null,
    [property: JsonPropertyName("dropout")] double Dropout = 0)
{
    public const string Relu = "relu";
    public const string LeakyRelu = "leaky_relu";

    /// <summary>The LeakyReLU slope (0.01 when the JSON leaves it out, PyTorch's default); 0 for ReLU.</summary>
    [JsonIgnore]
    public double Slope => Activation == LeakyRelu ? NegativeSlope ?? 0.01 : 0;
}

/// <summary>
/// The original's MLP parameters: <c>{"layers":[{"units":512,"activation":"leaky_relu","negative_slope":0.1,"dropout":0.4},...],"learning_rate":1e-4}</c>.
/// The input size is the encoder's dimension and the output the 16 classes, so neither is part of the parameters.
/// </summary>
public sealed record MlpParameters(
    [property: JsonPropertyName("layers")] IReadOnlyList<LayerParameters> Layers,
    [property: JsonPropertyName("learning_rate")] double LearningRate)
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static MlpParameters FromJson(string json) =>
        (JsonSerializer.Deserialize<MlpParameters>(json, Json) ?? throw new FormatException("empty MLP parameters")).Validated();

    public MlpParameters Validated()
    {
        if (Layers is null || Layers.Count == 0) throw new FormatException("an MLP needs at least one hidden layer");
        if (LearningRate is <= 0 or > 1) throw new FormatException($"learning_rate {LearningRate} is outside (0, 1]");
        foreach (var l in Layers)
        {
            if (l.Units is < 1 or > 65_536) throw new FormatException($"units {l.Units} is outside 1-65536");
            if (l.Activation is not (LayerParameters.Relu or LayerParameters.LeakyRelu))
                throw new FormatException($"activation '{l.Activation}' is not relu or leaky_relu");
            if (l.Dropout is < 0 or >= 1) throw new FormatException($"dropout {l.Dropout} is outside [0, 1)");
        }
        return this;
    }
}

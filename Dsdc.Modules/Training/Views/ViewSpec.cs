using System.Text.Json.Serialization;

namespace Dsdc.Training;

/// <summary>
/// One view of a served model, as <c>model.json</c> lists it: its ONNX file (raw view features in, probabilities out;
/// standardisation is folded into the graph), the file with its feature state (the TF-IDF vocabulary and idf), and its
/// weight in the probability average.
/// </summary>
public sealed record ViewSpec(
    [property: JsonPropertyName("view")] string View,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("dimensions")] int Dimensions,
    [property: JsonPropertyName("weight")] double Weight,
    [property: JsonPropertyName("features")] string? Features = null,
    [property: JsonPropertyName("output")] string Output = OnnxExport.OutputName);

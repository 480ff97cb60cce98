using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dsdc.Training;

/// <summary>
/// <c>model.json</c> beside a run's <c>model.onnx</c>: what the model expects and what it scored. The Inference module
/// reads it to check that the encoder matches and to name the classes. <see cref="Views"/> lists the views of a
/// multi-view model (their files sit beside it); null for a single MLP on the vectors, which is <c>model.onnx</c>.
/// </summary>
public sealed record ModelManifest(
    long RunId,
    string Name,
    IReadOnlyList<string> Classes,
    string Encoder,
    string EncoderVersion,
    int Dimensions,
    string Input,
    string Output,
    JsonElement Parameters,
    ModelScores Metrics,
    DateTime CreatedAt,
    IReadOnlyList<ViewSpec>? Views = null)
{
    /// <summary>The classes the model was trained on (at least one labelled document each); null = all 16. Others are never predicted.</summary>
    public IReadOnlyList<int>? KnownClasses { get; init; }

    /// <summary>Below this calibrated confidence a prediction needs review (from the cross-validated accuracy-coverage curve); null = unknown.</summary>
    public double? ReviewThreshold { get; init; }

    /// <summary>A fused model's top-label calibration, applied after the softmax of the summed view logits; null = none.</summary>
    public TopLabelCalibration? Calibration { get; init; }

    /// <summary>
    /// Why a process that embeds with <paramref name="encoder"/> and computes the region features of <paramref name="regions"/>
    /// cannot serve this model (it was trained on other inputs); null when it can.
    /// </summary>
    public string? WhyNotServable(Dsdc.Embedding.IDocumentEncoder encoder, Dsdc.ImageProcessing.RegionSet regions)
    {
        if (Encoder != encoder.Id || EncoderVersion != encoder.Version || Dimensions != encoder.Dimensions)
            return $"run {RunId} was trained on {Encoder}@{EncoderVersion} ({Dimensions} dims), " +
                $"but this process embeds with {encoder.Id}@{encoder.Version} ({encoder.Dimensions} dims)";
        var computed = Dsdc.Embedding.RegionEncoder.DimensionsOf(regions);
        if (RegionDimensions is { } read && read != computed)
            return $"run {RunId} reads {read} region features, but this process computes {computed} (the '{regions.Name}' regions, " +
                $"{Dsdc.Embedding.EmbeddingOptions.Section}:{nameof(Dsdc.Embedding.EmbeddingOptions.RegionSet)})";
        return null;
    }

    /// <summary>How many region features the model's region view reads; null when it reads none.</summary>
    [JsonIgnore]
    public int? RegionDimensions => ViewEnsembleRunner.Specs(this).FirstOrDefault(v => v.View == ViewKinds.Regions)?.Dimensions;

    /// <summary>Whether the class at <paramref name="label"/> can be predicted.</summary>
    public bool Knows(int label) => KnownClasses is null || KnownClasses.Contains(label);

    /// <summary>The classes the model can predict, in order (all 16 when <see cref="KnownClasses"/> is null).</summary>
    [JsonIgnore]
    public IReadOnlyList<int> Predictable => KnownClasses ?? Enumerable.Range(0, Classes.Count).ToList();

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ModelManifest Read(string path) =>
        JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty");
}

/// <summary>Test metrics on the stored test split at training time.</summary>
public sealed record ModelScores(double Accuracy, double MacroF1, int TestSize, IReadOnlyList<ClassMetrics> PerClass, int[][] Confusion)
{
    /// <summary>The repeated cross-validation estimate (mean, spread, calibration, coverage) when the run was selected that way.</summary>
    public CvEstimate? Estimate { get; init; }

    /// <summary>The accuracy-coverage curve on the stored test side, when the run was scored there.</summary>
    public IReadOnlyList<CoveragePoint>? TestCoverage { get; init; }

    /// <summary>The review threshold from the test side (<see cref="Calibration.ReviewThreshold"/>), when the run was scored there.</summary>
    public double? TestReviewThreshold { get; init; }

    /// <summary>The accuracy the review threshold aims at (Training:ReviewTargetAccuracy when the run trained).</summary>
    public double? TargetAccuracy { get; init; }
}

/// <summary>Where run artifacts live: <c>&lt;ModelsDir&gt;/runs/&lt;runId&gt;/model.onnx</c> and <c>model.json</c>.</summary>
public static class ModelArtifacts
{
    public const string OnnxFile = "model.onnx";
    public const string ManifestFile = "model.json";

    public static string RelativeDir(long runId) => Path.Combine("runs", runId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Writes the files through temporary names, flushed to disk, so a reader never sees half a model: <paramref name="extra"/>
    /// (other views' graphs and feature files) first, <c>model.json</c> last, since a run without it is not loadable; then
    /// makes the names durable, before the run is recorded as succeeded (a power loss must not leave a promoted run with
    /// empty files). A write that fails (a full disk) leaves no temporary file behind.
    /// </summary>
    public static string Write(string modelsDir, long runId, byte[] onnx, ModelManifest manifest, IReadOnlyDictionary<string, byte[]>? extra = null)
    {
        var dir = Path.Combine(modelsDir, RelativeDir(runId));
        Dsdc.ImageProcessing.AtomicFile.CreateFolder(dir);
        foreach (var (name, bytes) in extra ?? new Dictionary<string, byte[]>())
            Dsdc.ImageProcessing.AtomicFile.Write(Path.Combine(dir, name), bytes);
        Dsdc.ImageProcessing.AtomicFile.Write(Path.Combine(dir, OnnxFile), onnx);
        Dsdc.ImageProcessing.AtomicFile.Write(Path.Combine(dir, ManifestFile), System.Text.Encoding.UTF8.GetBytes(manifest.ToJson()));
        Dsdc.ImageProcessing.AtomicFile.SyncFolder(dir);
        return Path.Combine(RelativeDir(runId), OnnxFile);
    }
}

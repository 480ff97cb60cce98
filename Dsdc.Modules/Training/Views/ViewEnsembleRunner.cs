using Microsoft.ML.OnnxRuntime;

namespace Dsdc.Training;

/// <summary>
/// A run's model on ONNX Runtime, every view loaded: the features of each view computed by the same code as in training
/// (<see cref="ViewFeatures"/>), each view's graph run, the probabilities averaged with the recorded weights.
/// A run of a single MLP on the vectors (no <c>views</c> in its manifest) is one view. Owns its sessions.
/// </summary>
public sealed class ViewEnsembleRunner : IDisposable
{
    private readonly List<(ViewSpec Spec, InferenceSession Session, IViewFeatureState? Features)> _views = [];

    private readonly bool[] _known;
    private readonly TopLabelCalibration? _calibration;

    public ViewEnsembleRunner(ChampionModel model, Func<string, InferenceSession> createSession)
    {
        var dir = Path.GetDirectoryName(model.OnnxPath)!;
        _known = Enumerable.Range(0, Shared.DocumentClasses.Count).Select(model.Manifest.Knows).ToArray();
        _calibration = model.Manifest.Calibration;
        try
        {
            foreach (var spec in Specs(model.Manifest))
            {
                if (spec.Output is not (OnnxExport.OutputName or OnnxExport.LogitsName))
                    throw new InvalidDataException($"{spec.File}: unknown output '{spec.Output}'");
                var features = spec.Features is { } f ? ViewFeatures.Load(spec.View, File.ReadAllText(Path.Combine(dir, f))) : null;
                if (features is not null && features.Dimensions != spec.Dimensions)
                    throw new InvalidDataException($"{spec.Features} gives {features.Dimensions} features; {spec.File} expects {spec.Dimensions}");
                _views.Add((spec, createSession(Path.Combine(dir, spec.File)), features));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Why this version cannot load the model's views, or null when it can: what the constructor would find (a view's graph
    /// missing, its feature file unreadable, of another features version or of another size), without opening sessions.
    /// The model's <c>model.onnx</c> and manifest being readable is not enough to serve it.
    /// </summary>
    public static string? WhyNotLoadable(ChampionModel model)
    {
        var dir = Path.GetDirectoryName(model.OnnxPath)!;
        try
        {
            foreach (var spec in Specs(model.Manifest))
            {
                if (spec.Output is not (OnnxExport.OutputName or OnnxExport.LogitsName)) return $"{spec.File}: unknown output '{spec.Output}'";
                if (!File.Exists(Path.Combine(dir, spec.File))) return $"its view graph {spec.File} is missing";
                if (spec.Features is not { } f) continue;
                var features = ViewFeatures.Load(spec.View, File.ReadAllText(Path.Combine(dir, f)));
                if (features.Dimensions != spec.Dimensions) return $"{f} gives {features.Dimensions} features; {spec.File} expects {spec.Dimensions}";
            }
            return null;
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
        {
            // A file of the right kind with content this version cannot use (an empty object, a repeated term) too.
            return $"its view files cannot be read: {ex.Message}";
        }
    }

    /// <summary>The views of a manifest; a manifest without any is the single MLP on the vectors in <c>model.onnx</c>.</summary>
    public static IReadOnlyList<ViewSpec> Specs(ModelManifest m) =>
        m.Views is { Count: > 0 } views ? views : [new ViewSpec(ViewKinds.Vector, ModelArtifacts.OnnxFile, m.Dimensions, 1)];


    public float[][] Predict(IReadOnlyList<PageInputs> pages)
    {
        if (pages.Count == 0) return [];
        var perView = _views.Select(v => OnnxMlpRunner.Predict(v.Session, pages.Select(p => ViewFeatures.Raw(v.Spec.View, v.Features, p)).ToList(), v.Spec.Output)).ToList();
        if (SumsLogits)
        {
            // A fused model: each view's graph gives its weighted scores; their sum goes through the softmax over the known classes.
            return pages.Select((_, i) =>
            {
                var logits = new double[_known.Length];
                foreach (var view in perView)
                    for (var c = 0; c < logits.Length; c++) logits[c] += view[i][c];
                return Calibrated(Stacking.Softmax(logits, _known));
            }).ToArray();
        }
        var weights = _views.Select(v => v.Spec.Weight).ToList();
        return pages.Select((_, i) => Stacking.Restrict(ViewFeatures.Combine(perView.Select(p => p[i]).ToList(), weights), _known)).ToArray();
    }

    private float[] Calibrated(float[] p) => _calibration?.Apply(p) ?? p;

    /// <summary>Whether the views give logits to be summed (a fused model) rather than probabilities to be averaged.</summary>
    public bool SumsLogits => _views.Count > 0 && _views.All(v => v.Spec.Output == OnnxExport.LogitsName);

    /// <summary>Every view the model reads.</summary>
    public IReadOnlyList<string> ViewNames => _views.Select(v => v.Spec.View).ToList();

    /// <summary>From a vector alone: the views that read the vector (for a multi-view model, only part of it).</summary>
    public float[] PredictVector(float[] vector)
    {
        var views = _views.Where(v => v.Spec.View == ViewKinds.Vector).ToList();
        if (views.Count == 0) throw new InvalidOperationException("this model has no view of the encoder's vector");
        var perView = views.Select(v => OnnxMlpRunner.Predict(v.Session, [vector], v.Spec.Output)[0]).ToList();
        if (SumsLogits)
            return Calibrated(Stacking.Softmax(Enumerable.Range(0, _known.Length).Select(c => perView.Sum(p => (double)p[c])).ToArray(), _known));
        return Stacking.Restrict(ViewFeatures.Combine(perView, views.Select(v => v.Spec.Weight).ToList()), _known);
    }

    public void Dispose()
    {
        foreach (var v in _views) v.Session.Dispose();
        _views.Clear();
    }
}

using System.Text.Json;

namespace Dsdc.Training;

/// <summary>What fitting a candidate hands to the recorder: the graph files, the views they serve, and the test pages' probabilities.</summary>
internal sealed record TrainedRun(byte[] MainOnnx, IReadOnlyDictionary<string, byte[]> Extra, IReadOnlyList<ViewSpec>? Views,
    IReadOnlyList<int>? KnownClasses, IReadOnlyList<EpochMetrics> Epochs, int BestEpoch, float[][] TestProbabilities)
{
    /// <summary>A fused model's top-label calibration, applied by serving after the softmax; null = none.</summary>
    public TopLabelCalibration? Calibration { get; init; }
}

/// <summary>
/// A model recipe a training job can try: how cross-validation trains and scores it (<see cref="Recipe"/>) and how the
/// served artifact is fitted (<see cref="Fit"/>: train side, validation side, the test pages to score with the fitted
/// model (none under cross-validation), the ONNX metadata).
/// </summary>
internal sealed record Candidate(string Name, string ParametersJson, CvRecipe Recipe,
    Func<IReadOnlyList<LabelledPage>, IReadOnlyList<LabelledPage>, IReadOnlyList<PageInputs>, Dictionary<string, string>, CancellationToken, TrainedRun> Fit)
{
    /// <summary>The champion's recipe re-run as this version defines its name: the parameters its run recorded (null
    /// when they are re-run as recorded).</summary>
    public string? RedefinedFrom { get; init; }
}

internal static class Candidates
{
    /// <summary>The fused recipes named in <see cref="TrainingOptions.Candidates"/> (those needing region features only when every page has them), then MLPs.</summary>
    public static IReadOnlyList<Candidate> Default(TrainingOptions o, int mlps, bool regionsReady, TrainingSettings settings, RandomSearch search)
    {
        var fused = o.CandidateNames
            .Select(name => (name, parameters: FusedRecipes.Named(name)))
            .Where(c => regionsReady || c.parameters.Views.All(v => v.View != ViewKinds.Regions))
            .ToList();
        var mlp = Enumerable.Range(0, mlps).Select(i => i < KnownConfigurations.All.Count
            ? KnownConfigurations.All[i]
            : ($"random-{i - KnownConfigurations.All.Count + 1}", search.Next()));
        return From(mlp.ToList(), [], fused, settings);
    }

    public static IReadOnlyList<Candidate> From(IReadOnlyList<(string Name, MlpParameters Parameters)> mlps,
        IReadOnlyList<(string Name, ViewEnsembleParameters Parameters)> views, IReadOnlyList<(string Name, FusedParameters Parameters)> fused,
        TrainingSettings settings) =>
        [.. fused.Select(f => Fused(f.Name, f.Parameters)), .. mlps.Select(m => Mlp(m.Name, m.Parameters, settings)), .. views.Select(v => Views(v.Name, v.Parameters, settings))];

    /// <summary>Whether a recipe (its parameters JSON) has a view that reads the page's region features.</summary>
    public static bool ReadsRegions(string parametersJson) => Reads(parametersJson, ViewKinds.Regions);

    /// <summary>Whether a recorded run's parameters have a view of the given kind.</summary>
    public static bool Reads(string parametersJson, string view)
    {
        using var doc = JsonDocument.Parse(parametersJson);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("views", out var views)
            && views.ValueKind == JsonValueKind.Array
            && views.EnumerateArray().Any(v => v.ValueKind == JsonValueKind.Object && v.TryGetProperty("view", out var name)
                && name.ValueKind == JsonValueKind.String && name.GetString() == view);
    }

    /// <summary>The recipe a recorded run was trained with, from its parameters JSON; null when it cannot be re-run here.</summary>
    public static Candidate? FromRun(string name, string parametersJson, TrainingSettings settings)
    {
        using var doc = JsonDocument.Parse(parametersJson);
        var approach = doc.RootElement.TryGetProperty("approach", out var a) ? a.GetString() : null;
        return approach switch
        {
            FusedParameters.Approach => Fused(name, JsonSerializer.Deserialize<FusedParameters>(parametersJson)!),
            "views" => Views(name, JsonSerializer.Deserialize<ViewEnsembleParameters>(parametersJson)!, settings),
            null => Mlp(name, MlpParameters.FromJson(parametersJson), settings),
            _ => null,
        };
    }

    public static Candidate Fused(string name, FusedParameters parameters) =>
        new(name, parameters.ToJson(), CvRecipes.FusedRecipe(parameters), (train, validation, test, metadata, ct) =>
        {
            var model = FusedModel.Train(parameters, [.. train, .. validation], ct);
            return FusedExport.Export(model, metadata, model.Predict(test));
        });

    public static Candidate Mlp(string name, MlpParameters parameters, TrainingSettings settings)
    {
        var asViews = new ViewEnsembleParameters([new ViewParameters(ViewKinds.Vector, parameters, 0, false)]);
        return new(name, parameters.ToJson(), CvRecipes.ViewsRecipe(asViews, settings), (train, validation, test, metadata, ct) =>
        {
            var (fit, early) = WithValidation(train, validation, settings.Seed);
            var epochs = new List<EpochMetrics>();
            LabelledVector Row(LabelledPage p) => new(p.DocumentId, p.Label, p.Inputs.Vector);
            using var trained = MlpTrainer.Train(parameters, fit.Select(Row).ToList(), early.Select(Row).ToList(), settings, epochs.Add, ct);
            var known = Stacking.KnownOf(Known(train, validation));
            var probabilities = test.Count == 0 ? [] : trained.Predict(test.Select(t => t.Vector).ToList()).Select(p => Stacking.Restrict(p, known)).ToArray();
            return new TrainedRun(OnnxExport.ToOnnx(trained.Layers(), parameters, metadata), new Dictionary<string, byte[]>(), null,
                Known(train, validation), epochs, trained.BestEpoch, probabilities);
        });
    }

    /// <summary>
    /// Each view's graph in its own file (the first one is <c>model.onnx</c>), standardisation folded in, and the text
    /// view's vocabulary and idf beside it: serving recomputes exactly the features the views were trained on.
    /// </summary>
    public static Candidate Views(string name, ViewEnsembleParameters parameters, TrainingSettings settings) =>
        new(name, parameters.ToJson(), CvRecipes.ViewsRecipe(parameters, settings), (train, validation, test, metadata, ct) =>
        {
            var (fit, early) = WithValidation(train, validation, settings.Seed);
            var epochs = new List<EpochMetrics>();
            using var trained = ViewEnsembleTrainer.Train(parameters, fit, early, settings, epochs.Add, ct);
            var known = Stacking.KnownOf(Known(train, validation));
            var probabilities = test.Count == 0 ? [] : trained.Predict(test).Select(p => Stacking.Restrict(p, known)).ToArray();
            var files = new ViewFiles();
            foreach (var view in trained.Views)
                files.Add(view.Parameters.View, OnnxExport.ToOnnx(view.ExportLayers(), view.Parameters.Model,
                    new Dictionary<string, string>(metadata) { ["dsdc.view"] = view.Parameters.View }), view.Features, view.Model.Inputs, view.Parameters.Weight);
            return new TrainedRun(files.Main, files.Extra, files.Specs, Known(train, validation), epochs, trained.Views.Max(v => v.Model.BestEpoch), probabilities);
        });

    /// <summary>Under cross-validation every labelled document is on the training side: a stratified 15% of it stops the networks early.</summary>
    private static (IReadOnlyList<LabelledPage> Fit, IReadOnlyList<LabelledPage> Validation) WithValidation(
        IReadOnlyList<LabelledPage> train, IReadOnlyList<LabelledPage> validation, int seed)
    {
        if (validation.Count > 0 || train.Count < 8) return (train, validation);
        var sides = SplitAssigner.AssignNew([], train.Select(d => (d.DocumentId, d.Label)).ToList(), 0.15, 0.0001, seed)
            .ToDictionary(a => a.DocumentId, a => a.Side);
        return (train.Where(d => sides[d.DocumentId] != SplitSides.Validation).ToList(), train.Where(d => sides[d.DocumentId] == SplitSides.Validation).ToList());
    }

    private static IReadOnlyList<int> Known(IReadOnlyList<LabelledPage> train, IReadOnlyList<LabelledPage> validation) =>
        train.Concat(validation).Select(p => p.Label).Distinct().Order().ToList();
}

/// <summary>The fused recipes production knows by name (<see cref="TrainingOptions.Candidates"/>). Their text view reads
/// every OCR reading of the page (<see cref="ViewKinds.Readings"/>).</summary>
public static class FusedRecipes
{
    public static readonly IReadOnlyDictionary<string, FusedParameters> All = new Dictionary<string, FusedParameters>
    {
        ["fused-tvr"] = CvRecipes.TextVectorRegions,
        ["fused-tvrc"] = CvRecipes.Production,
        ["fused-tv"] = CvRecipes.Fused(ViewKinds.Readings, ViewKinds.Vector),
        ["fused-tvc"] = CvRecipes.Fused(ViewKinds.Readings, ViewKinds.Vector, ViewKinds.Cues),
        ["fused-tr"] = CvRecipes.Fused(ViewKinds.Readings, ViewKinds.Regions),
        ["fused-t"] = CvRecipes.Fused(ViewKinds.Readings),
        ["fused-v"] = CvRecipes.Fused(ViewKinds.Vector),
    };

    /// <summary>
    /// The recipes that took the place of a recommended one: the default candidates gained the cues view (<c>fused-tvr</c>
    /// became <c>fused-tvrc</c>, <c>fused-tv</c> <c>fused-tvc</c>). A job of a plan that holds the successor (and not the
    /// former) re-runs a champion that a job promoted with the former as its successor, as it does a recipe this version
    /// redefined.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Successors = new Dictionary<string, string>
    {
        ["fused-tvr"] = "fused-tvrc",
        ["fused-tv"] = "fused-tvc",
    };

    /// <summary>
    /// Whether the fused recipe <paramref name="standInJson"/> is <paramref name="recipeJson"/> without its region
    /// features: the same views in the same order but for the regions view, stacked and calibrated alike (the default
    /// plan's <c>fused-tvc</c> for <c>fused-tvrc</c>). The default plan trains such a recipe while some documents lack the
    /// region features (<see cref="Candidates.Default"/>), so that a model serves before the embedding stage computed them.
    /// </summary>
    public static bool IsStandIn(string standInJson, string recipeJson)
    {
        if (!IsFused(standInJson) || !IsFused(recipeJson)) return false;
        var standIn = System.Text.Json.JsonSerializer.Deserialize<FusedParameters>(standInJson)!;
        var recipe = System.Text.Json.JsonSerializer.Deserialize<FusedParameters>(recipeJson)!;
        return recipe.Stack == standIn.Stack && recipe.Calibrate == standIn.Calibrate
            && standIn.Views.All(v => v.View != ViewKinds.Regions)
            && recipe.Views.Count(v => v.View == ViewKinds.Regions) == 1
            && recipe.Views.Where(v => v.View != ViewKinds.Regions).SequenceEqual(standIn.Views);
    }

    /// <summary>Whether a recorded run's parameters JSON is a fused recipe's.</summary>
    public static bool IsFused(string parametersJson)
    {
        using var doc = JsonDocument.Parse(parametersJson);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("approach", out var a)
            && a.ValueKind == JsonValueKind.String && a.GetString() == FusedParameters.Approach;
    }

    public static FusedParameters Named(string name) =>
        All.TryGetValue(name, out var p) ? p : throw new ArgumentException($"unknown fused recipe '{name}' (known: {string.Join(", ", All.Keys)})", nameof(name));
}

/// <summary>
/// A fused model as served files: one ONNX graph per view (Gemm to the 16 classes, the stacking weight folded into the
/// weights, no softmax: output <see cref="OnnxExport.LogitsName"/>), the TF-IDF vocabulary of the text views beside
/// them; serving sums the views' logits and applies the softmax over the known classes, as <see cref="FusedModel"/> does.
/// </summary>
internal static class FusedExport
{
    public static TrainedRun Export(FusedModel model, Dictionary<string, string> metadata, float[][] testProbabilities)
    {
        var files = new ViewFiles();
        foreach (var view in model.Views)
            files.Add(view.View, OnnxExport.ToOnnx([view.Ridge.Layer(view.Weight)], new MlpParameters([], 1),
                new Dictionary<string, string>(metadata) { ["dsdc.view"] = view.View }, softmax: false), view.Features, view.Ridge.Inputs, view.Weight,
                OnnxExport.LogitsName);
        var known = Enumerable.Range(0, model.KnownClasses.Length).Where(c => model.KnownClasses[c]).ToList();
        return new TrainedRun(files.Main, files.Extra, files.Specs, known, [], 0, testProbabilities) { Calibration = model.Calibration };
    }
}

/// <summary>
/// The files of a model's views as <c>model.json</c> lists them: the first view's graph is <c>model.onnx</c>, the others
/// <c>view&lt;N&gt;-&lt;view&gt;.onnx</c>, each text view's vocabulary and idf beside its graph.
/// </summary>
internal sealed class ViewFiles
{
    private byte[]? _main;

    public byte[] Main => _main ?? throw new InvalidOperationException("a model has at least one view");
    public Dictionary<string, byte[]> Extra { get; } = [];
    public List<ViewSpec> Specs { get; } = [];

    public void Add(string view, byte[] onnx, IViewFeatureState? state, int dimensions, double weight, string output = OnnxExport.OutputName)
    {
        var i = Specs.Count;
        var file = i == 0 ? ModelArtifacts.OnnxFile : $"view{i}-{view}.onnx";
        if (i == 0) _main = onnx;
        else Extra[file] = onnx;
        string? features = null;
        if (state is not null)
        {
            features = $"view{i}-{view}-{state.FileSuffix}.json";
            Extra[features] = System.Text.Encoding.UTF8.GetBytes(state.ToJson());
        }
        Specs.Add(new ViewSpec(view, file, dimensions, weight, features, output));
    }
}

namespace Dsdc.Training;

/// <summary>One trained view: its feature transform (TF-IDF vocabulary, standardisation) and its network.</summary>
public sealed class FittedView(ViewParameters parameters, IViewFeatureState? features, Standardizer? standardizer, TrainedMlp model) : IDisposable
{
    public ViewParameters Parameters => parameters;
    public IViewFeatureState? Features => features;
    public TrainedMlp Model => model;

    public float[][] Predict(IReadOnlyList<PageInputs> pages) =>
        model.Predict(pages.Select(p => Input(p)).ToList());

    /// <summary>The features the network was trained on (standardised when the view is).</summary>
    internal float[] Input(PageInputs page)
    {
        var raw = ViewFeatures.Raw(parameters.View, features, page);
        return standardizer is null ? raw : standardizer.Apply(raw);
    }

    /// <summary>The dense layers for the ONNX export, standardisation folded in: the graph takes the raw features.</summary>
    public IReadOnlyList<DenseLayer> ExportLayers()
    {
        var layers = model.Layers().ToList();
        if (standardizer is not null) layers[0] = standardizer.Fold(layers[0]);
        return layers;
    }

    public void Dispose() => model.Dispose();
}

/// <summary>
/// What a view knows about its features beyond its classifier, saved beside the view's graph (<see cref="ViewSpec.Features"/>)
/// so that serving computes exactly the features the model was trained on: a text view's TF-IDF vocabulary and idf, the
/// cues view's lexicon.
/// </summary>
public interface IViewFeatureState
{
    int Dimensions { get; }

    /// <summary>The end of the saved file's name: <c>view&lt;N&gt;-&lt;view&gt;-&lt;suffix&gt;.json</c>.</summary>
    string FileSuffix { get; }

    string ToJson();
}

/// <summary>The raw features of a view: shared by training, cross-validation and serving so they never drift apart.</summary>
public static class ViewFeatures
{
    /// <summary>
    /// A view's feature state for a training side: a text view's TF-IDF fitted on it (at least
    /// <paramref name="minDocumentFrequency"/> documents per term), the cues view's lexicon as this version writes it,
    /// nothing for the dense views.
    /// </summary>
    public static IViewFeatureState? Fit(string view, IReadOnlyList<LabelledPage> train, int minDocumentFrequency = 2) => view switch
    {
        _ when ViewKinds.IsText(view) => RawTextTfidf.Fit(train.Select(d => TextOf(view, d.Inputs)), minDocumentFrequency: minDocumentFrequency),
        ViewKinds.Cues => CueLexicon.Default,
        _ => null,
    };

    /// <summary>A saved feature state, read back as the view's kind says.</summary>
    public static IViewFeatureState Load(string view, string json) => view switch
    {
        _ when ViewKinds.IsText(view) => RawTextTfidf.FromJson(json),
        ViewKinds.Cues => CueLexicon.FromJson(json),
        _ => throw new InvalidDataException($"the {view} view keeps no feature file"),
    };

    public static float[] Raw(string view, IViewFeatureState? state, PageInputs page) => view switch
    {
        ViewKinds.Vector => page.Vector,
        _ when ViewKinds.IsText(view) => (state as RawTextTfidf ?? throw new InvalidOperationException($"the {view} view has no vocabulary")).Transform(TextOf(view, page)),
        ViewKinds.Cues => (state as CueLexicon ?? throw new InvalidOperationException("the cues view has no lexicon")).Transform(page),
        ViewKinds.Layout => page.Layout,
        ViewKinds.Regions => page.Regions ?? throw new InvalidOperationException("the page's region features were not computed"),
        ViewKinds.Image => page.Vector[..ImagePart(page)],
        ViewKinds.Sentence => page.Vector[ImagePart(page)..],
        _ => throw new NotSupportedException($"unknown view '{view}'"),
    };

    private static int ImagePart(PageInputs page) =>
        page.ImageDimensions > 0 ? page.ImageDimensions : throw new InvalidOperationException("the vector's image part is not known");

    /// <summary>The text a TF-IDF view reads.</summary>
    public static string TextOf(string view, PageInputs page) => view switch
    {
        ViewKinds.Header => page.Header,
        ViewKinds.Readings => page.AllReadings,
        _ => page.RawText,
    };

    /// <summary>The weighted mean of the views' probabilities (weights need not sum to 1).</summary>
    public static float[] Combine(IReadOnlyList<float[]> perView, IReadOnlyList<double> weights)
    {
        var total = weights.Sum();
        var result = new float[perView[0].Length];
        for (var v = 0; v < perView.Count; v++)
            for (var c = 0; c < result.Length; c++) result[c] += (float)(perView[v][c] * weights[v] / total);
        return result;
    }
}

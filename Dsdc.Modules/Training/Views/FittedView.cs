namespace Dsdc.Training;

/// <summary>One trained view: its feature transform (TF-IDF vocabulary, standardisation) and its network.</summary>
public sealed class FittedView(ViewParameters parameters, RawTextTfidf? tfidf, Standardizer? standardizer, TrainedMlp model) : IDisposable
{
    public ViewParameters Parameters => parameters;
    public RawTextTfidf? Tfidf => tfidf;
    public TrainedMlp Model => model;

    public float[][] Predict(IReadOnlyList<PageInputs> pages) =>
        model.Predict(pages.Select(p => Input(p)).ToList());

    /// <summary>The features the network was trained on (standardised when the view is).</summary>
    internal float[] Input(PageInputs page)
    {
        var raw = ViewFeatures.Raw(parameters.View, tfidf, page);
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

/// <summary>The raw features of a view: shared by training, cross-validation and serving so they never drift apart.</summary>
public static class ViewFeatures
{
    public static float[] Raw(string view, RawTextTfidf? tfidf, PageInputs page) => view switch
    {
        ViewKinds.Vector => page.Vector,
        _ when ViewKinds.IsText(view) => (tfidf ?? throw new InvalidOperationException($"the {view} view has no vocabulary")).Transform(TextOf(view, page)),
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

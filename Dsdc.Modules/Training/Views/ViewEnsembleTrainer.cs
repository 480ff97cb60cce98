namespace Dsdc.Training;

/// <summary>A labelled document with everything its views read.</summary>
public sealed record LabelledPage(string DocumentId, int Label, PageInputs Inputs)
{
    /// <summary>The stored vector's id (<c>embedding.vectors.id</c>) the inputs were read with, 0 where they were not
    /// read from the store: what a recorded training set names (<see cref="TrainingStore.RecordDatasetAsync"/>).</summary>
    public long VectorId { get; init; }
}

/// <summary>The trained views of a multi-view model; predicts with their weighted probability average.</summary>
public sealed class TrainedEnsemble(IReadOnlyList<FittedView> views) : IDisposable
{
    public IReadOnlyList<FittedView> Views => views;

    public float[][] Predict(IReadOnlyList<PageInputs> pages)
    {
        var perView = views.Select(v => v.Predict(pages)).ToList();
        var weights = views.Select(v => v.Parameters.Weight).ToList();
        return pages.Select((_, i) => ViewFeatures.Combine(perView.Select(p => p[i]).ToList(), weights)).ToArray();
    }

    public void Dispose()
    {
        foreach (var v in views) v.Dispose();
    }
}

/// <summary>
/// Trains each view of a <see cref="ViewEnsembleParameters"/> on the same documents: fits the view's features on the
/// training side only (TF-IDF vocabulary, standardisation), then trains its network with <see cref="MlpTrainer"/>.
/// </summary>
public static class ViewEnsembleTrainer
{
    public static TrainedEnsemble Train(ViewEnsembleParameters parameters, IReadOnlyList<LabelledPage> train, IReadOnlyList<LabelledPage> validation,
        TrainingSettings settings, Action<EpochMetrics>? onEpoch = null, CancellationToken ct = default)
    {
        var views = new List<FittedView>();
        try
        {
            foreach (var p in parameters.Views)
                views.Add(TrainView(p, train, validation, settings with { WeightDecay = p.WeightDecay }, onEpoch, ct));
            return new TrainedEnsemble(views);
        }
        catch
        {
            foreach (var v in views) v.Dispose();
            throw;
        }
    }

    public static FittedView TrainView(ViewParameters p, IReadOnlyList<LabelledPage> train, IReadOnlyList<LabelledPage> validation,
        TrainingSettings settings, Action<EpochMetrics>? onEpoch, CancellationToken ct)
    {
        var features = ViewFeatures.Fit(p.View, train);
        var raw = train.Select(d => ViewFeatures.Raw(p.View, features, d.Inputs)).ToList();
        var standardizer = p.Standardize ? Standardizer.Fit(raw) : null;
        float[] Input(PageInputs page) =>
            standardizer is null ? ViewFeatures.Raw(p.View, features, page) : standardizer.Apply(ViewFeatures.Raw(p.View, features, page));
        var trainRows = train.Select((d, i) => new LabelledVector(d.DocumentId, d.Label, standardizer is null ? raw[i] : standardizer.Apply(raw[i]))).ToList();
        var validationRows = validation.Select(d => new LabelledVector(d.DocumentId, d.Label, Input(d.Inputs))).ToList();
        var model = MlpTrainer.Train(p.Model, trainRows, validationRows, settings, onEpoch, ct);
        return new FittedView(p, features, standardizer, model);
    }
}

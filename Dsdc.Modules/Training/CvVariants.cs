namespace Dsdc.Training;

/// <summary>The model variants compared by <c>crossvalidate</c>: the production MLP and the changes tried to improve it.</summary>
internal static class CvVariants
{
    public static List<CvVariant> All(int epochs, TrainingOptions o, CancellationToken ct)
    {
        TrainingSettings Settings(int e, int patience) => new(e, o.BatchSize, patience, o.Seed, o.UseCuda, o.Threads);
        var production = Settings(epochs, o.Patience);
        var longer = Settings(Math.Max(epochs, 300), 30);
        var fastLr = KnownConfigurations.Mlp12 with { LearningRate = 1e-3 };
        return
        [
            new("mlp12", $"MLP12 on the encoder's vectors, {epochs} epochs (production default)",
                (tr, va, te) => Mlp(KnownConfigurations.Mlp12, production, tr, va, te, d => d.Vector, ct)),
            new("mlp12-long", "MLP12 on the vectors, up to 300 epochs, patience 30",
                (tr, va, te) => Mlp(KnownConfigurations.Mlp12, longer, tr, va, te, d => d.Vector, ct)),
            new("mlp12-lr1e-3", "MLP12 with learning rate 1e-3 on the vectors, up to 300 epochs",
                (tr, va, te) => Mlp(fastLr, longer, tr, va, te, d => d.Vector, ct)),
            new("mlp12-tfidf", "MLP12 (lr 1e-3) on vectors ++ TF-IDF of the cleaned OCR text (2000 terms fitted on the training side)",
                (tr, va, te) =>
                {
                    var tfidf = TfidfFeatures.Fit(tr.Select(d => d.Text));
                    return Mlp(fastLr, longer, tr, va, te, d => [.. d.Vector, .. tfidf.Transform(d.Text)], ct);
                }),
            new("ensemble", "mean probabilities of MLP12 (lr 1e-3) on the vectors and MLP12 (lr 1e-3) on TF-IDF alone",
                (tr, va, te) =>
                {
                    var tfidf = TfidfFeatures.Fit(tr.Select(d => d.Text));
                    var (a, ma) = Mlp(fastLr, longer, tr, va, te, d => d.Vector, ct);
                    var (b, mb) = Mlp(fastLr, longer, tr, va, te, d => tfidf.Transform(d.Text), ct);
                    return (a.Select((p, i) => p.Select((x, j) => (x + b[i][j]) / 2).ToArray()).ToArray(), [.. ma, .. mb]);
                }),
            new("knn-vector", "5 nearest training documents by cosine on the vectors, similarity-weighted vote (pgvector's similar-document search)",
                (tr, _, te) => (Knn(tr.Concat(_).ToList(), te, 5), [])),
            Views("lr-vector", "logistic regression (L2 1e-3) on the standardised vectors", longer, ct,
                ViewEnsembleParameters.Linear(ViewKinds.Vector, 1e-3, 1e-3, true)),
            Views("lr-text", "logistic regression on TF-IDF of the raw OCR text (word 1-2-grams + char_wb 3-5-grams, 20000 terms)", longer, ct,
                ViewEnsembleParameters.Linear(ViewKinds.Text, 1e-2, 0, false)),
            Views("lr-layout", "logistic regression (L2 1e-3) on the standardised 32x32 ink-density grid of the page", longer, ct,
                ViewEnsembleParameters.Linear(ViewKinds.Layout, 1e-3, 1e-3, true)),
            Views("views-vt", "mean probabilities of lr-vector and lr-text", longer, ct,
                ViewEnsembleParameters.Linear(ViewKinds.Vector, 1e-3, 1e-3, true), ViewEnsembleParameters.Linear(ViewKinds.Text, 1e-2, 0, false)),
            Views("views-vtl", "mean probabilities of lr-vector, lr-text and lr-layout", longer, ct,
                ViewEnsembleParameters.Linear(ViewKinds.Vector, 1e-3, 1e-3, true), ViewEnsembleParameters.Linear(ViewKinds.Text, 1e-2, 0, false),
                ViewEnsembleParameters.Linear(ViewKinds.Layout, 1e-3, 1e-3, true)),
        ];
    }

    private static CvVariant Views(string name, string description, TrainingSettings settings, CancellationToken ct, params ViewParameters[] views) =>
        new(name, description, (tr, va, te) =>
        {
            LabelledPage Page(CvDocument d) => new(d.DocumentId, d.Label, d.Inputs);
            var epochs = new List<EpochMetrics>();
            using var model = ViewEnsembleTrainer.Train(new ViewEnsembleParameters(views), tr.Select(Page).ToList(), va.Select(Page).ToList(),
                settings, epochs.Add, ct);
            return (model.Predict(te.Select(d => d.Inputs).ToList()), epochs.Select(e => e.DurationMs).ToList());
        });

    /// <summary>Cosine k-NN: each of the k most similar training documents votes for its class with its similarity.</summary>
    private static float[][] Knn(IReadOnlyList<CvDocument> train, IReadOnlyList<CvDocument> test, int k) => test.Select(t =>
    {
        var votes = new float[Shared.DocumentClasses.Count];
        foreach (var (label, similarity) in train.Select(d => (d.Label, Cosine(d.Vector, t.Vector))).OrderByDescending(x => x.Item2).Take(k))
            votes[label] += Math.Max(similarity, 0);
        var sum = votes.Sum();
        return sum > 0 ? votes.Select(v => v / sum).ToArray() : votes;
    }).ToArray();

    private static float Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return (float)(dot / Math.Sqrt(na * nb + 1e-12));
    }

    private static (float[][], List<double>) Mlp(MlpParameters parameters, TrainingSettings settings, IReadOnlyList<CvDocument> train,
        IReadOnlyList<CvDocument> validation, IReadOnlyList<CvDocument> test, Func<CvDocument, float[]> features, CancellationToken ct)
    {
        LabelledVector Row(CvDocument d) => new(d.DocumentId, d.Label, features(d));
        using var model = MlpTrainer.Train(parameters, train.Select(Row).ToList(), validation.Select(Row).ToList(), settings, null, ct);
        return (model.Predict(test.Select(features).ToList()), model.Epochs.Select(e => e.DurationMs).ToList());
    }
}

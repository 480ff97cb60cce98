using System.Collections.Concurrent;
using Dsdc.Inference;
using Dsdc.Tests.Training;
using Dsdc.Training;

namespace Dsdc.Tests.Inference;

[Collection(TrainingCollection.Name)]
public sealed class InferenceTests(TrainingApp app)
{
    [Fact]
    public async Task HotReloadUnderConcurrentPredictionsLosesNoRequest()
    {
        var ct = TestContext.Current.CancellationToken;
        var training = app.Get<TrainingService>();
        var a = (await training.TrainAsync(null, 2, "test", ct, TrainingRunTests.Bad)).Runs[0].Run.Id;
        var b = (await training.TrainAsync(null, 2, "test", ct, TrainingRunTests.Bad)).Runs[0].Run.Id;
        var registry = app.Get<ModelRegistry>();
        var classifier = app.Get<IDocumentClassifier>();
        await registry.PromoteAsync(a, "tester", "hot reload test", ct);
        Assert.Equal(a, classifier.ModelRunId);

        var vector = (await app.Get<TrainingDataLoader>().LoadAsync(ct)).Test[0].Vector;
        var served = new ConcurrentBag<long>();
        var errors = new ConcurrentBag<Exception>();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    served.Add((await classifier.ClassifyEmbeddingAsync(vector, ct)).ModelRunId!.Value);
                }
                catch (Exception ex)
                {
                    errors.Add(ex);
                }
            }
        }, ct)).ToList();
        for (var i = 0; i < 10; i++)
        {
            var result = await registry.PromoteAsync(i % 2 == 0 ? b : a, "tester", "swap", ct);
            Assert.True(result.Promoted, result.Message);
            await Task.Delay(30, ct);
        }
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Empty(errors);
        Assert.True(served.Count > 100, $"{served.Count} predictions");
        Assert.Equal([a, b], served.Distinct().Order());
        Assert.Equal(a, classifier.ModelRunId);
    }

    /// <summary>From a vector alone a multi-view champion answers with part of itself, which its calibration and review
    /// threshold were not measured on: that answer always needs review.</summary>
    [Fact]
    public async Task AMultiViewChampionsAnswerFromAVectorAloneAlwaysNeedsReview()
    {
        var ct = TestContext.Current.CancellationToken;
        var report = await app.Get<TrainingService>().TrainAsync(0, null, "test", ct, fused: [("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector))]);
        var run = report.Runs.First(r => r.Run.Name == "fused-tv").Run;
        await app.Get<ModelRegistry>().PromoteAsync(run.Id, "tester", "vector-only answer", ct);
        var classifier = app.Get<IDocumentClassifier>();
        Assert.Equal(run.Id, await classifier.ReloadAsync(ct));
        var page = (await app.Get<TrainingDataLoader>().LoadAllAsync(ct))[0].Inputs;

        Assert.True((await classifier.ClassifyEmbeddingAsync(page.Vector, ct)).NeedsReview);
        var whole = await classifier.ClassifyInputsAsync(page, ct);
        Assert.Equal(whole.TopProbability < whole.ReviewThreshold || whole.ReviewThreshold >= 1, whole.NeedsReview);
    }

    [Fact]
    public async Task ClassifyFileRunsTheFullPredictionPath()
    {
        var ct = TestContext.Current.CancellationToken;
        var classifier = app.Get<IDocumentClassifier>();
        if (await classifier.ReloadAsync(ct) is null)
        {
            var run = (await app.Get<TrainingService>().TrainAsync(null, 2, "test", ct, TrainingRunTests.Bad)).Runs[0].Run.Id;
            await app.Get<ModelRegistry>().PromoteAsync(run, "tester", "file test", ct);
        }
        var (path, _) = app.Documents[0];
        var c = await classifier.ClassifyFileAsync(path, ct);
        Assert.Equal(16, c.Probabilities.Count);
        Assert.Equal(1.0, c.Probabilities.Sum(), 3);
        Assert.InRange(c.Confidence, 0, 1);
        Assert.Equal(c.Probabilities.Max(), c.TopProbability, 6);
        Assert.Equal(Dsdc.Shared.DocumentClasses.NameOf(c.Label), c.ClassName);
        Assert.Equal($"run-{classifier.ModelRunId}", c.ModelId);
        foreach (var stage in new[] { "inspect", "ocr", "image", "encode", "model", "total" })
            Assert.True(c.TimingsMs.ContainsKey(stage), stage);
    }

    [Fact]
    public void ConfidenceIsOneMinusNormalisedEntropy()
    {
        Assert.Equal(0, Confidence.Entropy(Enumerable.Repeat(1f / 16, 16).ToArray()), 6);
        Assert.Equal(1, Confidence.Entropy([1f, .. new float[15]]), 6);
    }
}

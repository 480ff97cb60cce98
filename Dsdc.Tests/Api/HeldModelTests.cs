using Dsdc.Inference;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;

namespace Dsdc.Tests.Api;

/// <summary>A prediction takes the served model once and answers with it to the end, whatever is promoted meanwhile.</summary>
[Collection(ApiCollection.Name)]
public sealed class HeldModelTests(ApiApp app)
{
    [Fact]
    public async Task AModelHeldForAPredictionAnswersWithItselfWhileAnotherIsPromoted()
    {
        var ct = TestContext.Current.CancellationToken;
        var classifier = app.Get<IDocumentClassifier>();
        var registry = app.Get<ModelRegistry>();
        var champion = app.ChampionRunId;
        var other = (await registry.RunsAsync(100, ct)).First(r => r.Status == "succeeded" && r.Id != champion && r.Name.StartsWith("fused-", StringComparison.Ordinal));
        var data = await app.Get<TrainingDataLoader>().LoadAsync(Dsdc.Embedding.EncoderIds.Default, "1", ct, withPages: true);
        var inputs = data.PagesOf(data.Test)[0].Inputs;
        try
        {
            using var held = classifier.Acquire();
            var before = held.Classify(inputs);
            Assert.True((await registry.PromoteAsync(other.Id, "tests", "held model", ct)).Promoted);
            Assert.Equal(other.Id, await classifier.ReloadAsync(ct));

            // The held model still answers, as itself, with the same probabilities; a new call gets the new champion.
            var after = held.Classify(inputs);
            Assert.Equal($"run-{champion}", after.ModelId);
            Assert.Equal(before.Probabilities, after.Probabilities);
            Assert.Equal($"run-{other.Id}", (await classifier.ClassifyInputsAsync(inputs, ct)).ModelId);
        }
        finally
        {
            await registry.PromoteAsync(champion, "tests", "restore the collection's champion", ct);
            await classifier.ReloadAsync(ct);
        }
    }
}

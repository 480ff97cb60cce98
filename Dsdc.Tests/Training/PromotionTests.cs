using Dsdc.Training;

namespace Dsdc.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class PromotionTests(TrainingApp app)
{
    [Fact]
    public async Task BetterChallengerIsPromotedWorseIsNotAndRollbackReturns()
    {
        var ct = TestContext.Current.CancellationToken;
        await app.ExecuteAsync("TRUNCATE training.promotions");
        var training = app.Get<TrainingService>();
        var registry = app.Get<ModelRegistry>();

        var weak = await training.TrainAsync(null, 3, "test", ct, TrainingRunTests.Bad);
        Assert.True(weak.Promotion!.Promoted, weak.Promotion.Message); // the first champion
        var weakId = weak.Runs[0].Run.Id;

        var strong = await training.TrainAsync(null, 150, "test", ct, TrainingRunTests.Good);
        var strongId = strong.Runs[0].Run.Id;
        Assert.True(strong.Runs[0].Run.TestAccuracy > weak.Runs[0].Run.TestAccuracy);
        Assert.True(strong.Promotion!.Promoted, strong.Promotion.Message);
        Assert.Equal(strongId, await registry.ChampionRunIdAsync(ct));

        var worse = await training.TrainAsync(null, 3, "test", ct, TrainingRunTests.Bad);
        Assert.False(worse.Promotion!.Promoted, worse.Promotion.Message);
        Assert.Equal(strongId, await registry.ChampionRunIdAsync(ct));

        var rollback = await registry.RollbackAsync("tester", "checking rollback", ct);
        Assert.True(rollback.Promoted, rollback.Message);
        Assert.Equal(weakId, await registry.ChampionRunIdAsync(ct));
        Assert.False((await registry.RollbackAsync("tester", null, ct)).Promoted); // nothing before the first champion

        var manual = await registry.PromoteAsync(worse.Runs[0].Run.Id, "tester", "manual check", ct);
        Assert.True(manual.Promoted, manual.Message);
        var history = await registry.PromotionsAsync(ct);
        Assert.Equal(["automatic", "automatic", "rollback", "manual"], history.Select(p => p.Kind));
        Assert.Equal("tester", history[^1].PromotedBy);
        Assert.Equal("manual check", history[^1].Reason);
    }
}

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
        // The champion read from the newest row is the whole history's, rollback included.
        Assert.Equal(ChampionHistory.Champion(history), await registry.ChampionRunIdAsync(ct));
        Assert.Equal(ChampionHistory.Champion(history.Take(3)), weakId);
        Assert.Equal("tester", history[^1].PromotedBy);
        Assert.Equal("manual check", history[^1].Reason);
    }

    /// <summary>A run trained on inputs this process does not compute (here: another encoder version) cannot be made champion
    /// by hand, neither promoted nor rolled back to: it would leave every server without its model.</summary>
    [Fact]
    public async Task APersonCannotPromoteNorRollBackToARunThisProcessCannotServe()
    {
        var ct = TestContext.Current.CancellationToken;
        var training = app.Get<TrainingService>();
        var registry = app.Get<ModelRegistry>();
        var older = (await training.TrainAsync(null, 3, "test", ct, TrainingRunTests.Bad)).Runs[0].Run.Id;
        var newer = (await training.TrainAsync(null, 3, "test", ct, TrainingRunTests.Bad)).Runs[0].Run.Id;
        var manifestPath = Path.Combine(app.ModelsDir, "runs", older.ToString(System.Globalization.CultureInfo.InvariantCulture), ModelArtifacts.ManifestFile);
        var original = await File.ReadAllBytesAsync(manifestPath, ct);
        var manifest = ModelManifest.Read(manifestPath);
        try
        {
            await File.WriteAllTextAsync(manifestPath, (manifest with { EncoderVersion = "0-before-an-upgrade" }).ToJson(), ct);
            var champion = await registry.ChampionRunIdAsync(ct);

            var promote = await registry.PromoteAsync(older, "tester", null, ct);
            Assert.False(promote.Promoted, promote.Message);
            Assert.Contains($"run {older} cannot serve: run {older} was trained on {manifest.Encoder}@0-before-an-upgrade", promote.Message);
            Assert.Equal(champion, await registry.ChampionRunIdAsync(ct));

            // The same run as the champion before the current one: no rollback to it either.
            await File.WriteAllBytesAsync(manifestPath, original, ct);
            foreach (var run in new[] { older, newer })
                if (await registry.ChampionRunIdAsync(ct) != run) Assert.True((await registry.PromoteAsync(run, "tester", null, ct)).Promoted);
            await File.WriteAllTextAsync(manifestPath, (manifest with { EncoderVersion = "0-before-an-upgrade" }).ToJson(), ct);
            var rollback = await registry.RollbackAsync("tester", null, ct);
            Assert.False(rollback.Promoted, rollback.Message);
            Assert.Contains($"cannot roll back to run {older}: run {older} was trained on", rollback.Message);
            Assert.Equal(newer, await registry.ChampionRunIdAsync(ct));
        }
        finally
        {
            await File.WriteAllBytesAsync(manifestPath, original, ct);
        }
    }
}

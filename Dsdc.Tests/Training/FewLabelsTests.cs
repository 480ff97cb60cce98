using Dapper;
using Dsdc.Embedding;
using Dsdc.Inference;
using Dsdc.Shared.Jobs;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Tests.Training;

/// <summary>Model selection, calibration and serving of the fused models on the real pages of <see cref="TrainingApp"/>.</summary>
[Collection(TrainingCollection.Name)]
public sealed class FewLabelsTests(TrainingApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CrossValidationIsReproducibleWithItsSeed()
    {
        var docs = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        var recipe = CvRecipes.FusedRecipe(CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector));
        var outcome = RepeatedCrossValidation.Run(docs, 4, 2, 7, recipe, 0.9, Ct);
        var first = outcome.Estimate;
        var again = RepeatedCrossValidation.Run(docs, 4, 2, 7, recipe, 0.9, Ct).Estimate;
        var otherSeed = RepeatedCrossValidation.Folds(docs.Select(d => d.Label).ToList(), 4, 2, 8);

        Assert.Equal(8, first.FoldAccuracies.Count);
        Assert.Equal(first.FoldAccuracies, again.FoldAccuracies);
        Assert.Equal(first.Accuracy, again.Accuracy);
        Assert.NotEqual(RepeatedCrossValidation.Folds(docs.Select(d => d.Label).ToList(), 4, 2, 7)[0], otherSeed[0]);
        // Stratified: each fold holds every class that has at least 4 documents.
        var folds = RepeatedCrossValidation.Folds(docs.Select(d => d.Label).ToList(), 4, 1, 7)[0];
        foreach (var cls in docs.Select((d, i) => (d.Label, Fold: folds[i])).GroupBy(x => x.Label).Where(g => g.Count() >= 4))
            Assert.Equal(4, cls.Select(x => x.Fold).Distinct().Count());
        Assert.True(first.Accuracy > 0.25, $"cross-validated accuracy {first.Accuracy:P1}");
        Assert.True(first.AccuracySd > 0 && first.AccuracyCi95 > 0);
        Assert.Equal(outcome.Predictions.Average(p => p.Confidence), first.MeanConfidence, 12);
        Assert.InRange(first.MeanConfidence, 1.0 / 16, 1);
    }

    /// <summary>The stacking weights (fitted on leave-one-out scores) are the calibration: held-out log-loss must drop against the raw scores.</summary>
    [Fact]
    public async Task StackingLowersTheLogLossOnHeldOutFolds()
    {
        var docs = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        var stacked = RepeatedCrossValidation.Run(docs, 4, 1, 3, CvRecipes.FusedRecipe(CvRecipes.Production), 0.9, Ct).Estimate;
        var raw = RepeatedCrossValidation.Run(docs, 4, 1, 3, CvRecipes.FusedRecipe(CvRecipes.Production with { Stack = false }), 0.9, Ct).Estimate;

        Assert.True(stacked.LogLoss < raw.LogLoss, $"log-loss stacked {stacked.LogLoss:F3} vs raw {raw.LogLoss:F3}");
        Assert.True(stacked.Ece < raw.Ece, $"ECE stacked {stacked.Ece:F3} vs raw {raw.Ece:F3}");
    }

    /// <summary>The served files (ONNX Runtime, per-view logits summed) give the probabilities of the trained model.</summary>
    [Fact]
    public async Task ServedFusedArtifactGivesTheTrainingProbabilitiesWithin1e4()
    {
        var docs = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        Assert.All(docs, d => Assert.NotNull(d.Inputs.Regions));
        var train = docs.Where((_, i) => i % 3 != 0).ToList();
        var held = docs.Where((_, i) => i % 3 == 0).Select(d => d.Inputs).ToList();
        var model = FusedModel.Train(CvRecipes.Production, train, Ct);
        var expected = model.Predict(held);
        Assert.NotNull(model.Calibration);

        var exported = FusedExport.Export(model, [], expected);
        using var scratch = new ScratchFolder("dsdc-fused-");
        var dir = scratch.Path;
        var manifest = new ModelManifest(9001, "fused-tvrc", Dsdc.Shared.DocumentClasses.Names, EncoderIds.Default, "1", 896, OnnxExport.InputName,
            OnnxExport.OutputName, System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>(CvRecipes.Production.ToJson()),
            new ModelScores(0, 0, 0, [], []), DateTime.UtcNow, exported.Views) { KnownClasses = exported.KnownClasses, Calibration = exported.Calibration };
        ModelArtifacts.Write(dir, 9001, exported.MainOnnx, manifest, exported.Extra);
        var runDir = Path.Combine(dir, ModelArtifacts.RelativeDir(9001));
        using var runner = new ViewEnsembleRunner(new ChampionModel(9001, Path.Combine(runDir, ModelArtifacts.OnnxFile), ModelManifest.Read(Path.Combine(runDir, ModelArtifacts.ManifestFile))),
            OnnxMlpRunner.CpuSession);
        var served = runner.Predict(held);

        Assert.True(runner.SumsLogits);
        for (var i = 0; i < held.Count; i++)
            for (var c = 0; c < 16; c++)
                Assert.True(Math.Abs(expected[i][c] - served[i][c]) < 1e-4, $"page {i} class {c}: {expected[i][c]} vs {served[i][c]}");
    }

    /// <summary>
    /// The whole prediction path on a stored file (OCR, cleaning, preprocessing, encoder, region features, every view of the
    /// served fused champion) gives the probabilities that the champion's artifact gives on the inputs stored by the pipeline.
    /// </summary>
    [Fact]
    public async Task ClassifyingAStoredFileReproducesTheProbabilitiesOfItsStoredInputs()
    {
        var report = await app.Get<TrainingService>().TrainAsync(0, null, "test", Ct, fused: [("fused-tvrc", CvRecipes.Production)]);
        var run = report.Runs.First(r => r.Run.Name == "fused-tvrc").Run;
        Assert.Equal("cross-validation", run.Evaluation);
        await app.Get<ModelRegistry>().PromoteAsync(run.Id, "test", "parity check", Ct);
        var classifier = app.Get<IDocumentClassifier>();
        Assert.Equal(run.Id, await classifier.ReloadAsync(Ct));

        var docs = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        var artifact = app.Get<ModelRegistry>().Artifact(run.Id);
        var threshold = artifact.Manifest.ReviewThreshold ?? throw new InvalidOperationException("a cross-validated run records its review threshold");
        using var runner = new ViewEnsembleRunner(artifact, OnnxMlpRunner.CpuSession);
        foreach (var (path, _) in app.Documents.Take(3))
        {
            var id = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(await File.ReadAllBytesAsync(path, Ct)));
            var stored = docs.Single(d => d.DocumentId == id).Inputs;
            var expected = runner.Predict([stored])[0];
            var result = await classifier.ClassifyFileAsync(path, Ct);
            Assert.Equal(stored.Vector, result.Embedding);
            for (var c = 0; c < 16; c++)
                Assert.True(Math.Abs(expected[c] - result.Probabilities[c]) < 1e-4, $"{path} class {c}: {expected[c]} vs {result.Probabilities[c]}");
            Assert.Equal(result.Probabilities[result.Label] < threshold, result.NeedsReview);
        }
    }

    /// <summary>A champion trained on every region's features is not served by a process that computes the bands only.</summary>
    [Fact]
    public async Task AChampionTrainedOnOtherRegionsDoesNotServe()
    {
        var report = await app.Get<TrainingService>().TrainAsync(0, null, "test", Ct, fused: [("fused-tr", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Regions))]);
        var run = report.Runs.First(r => r.Run.Name == "fused-tr").Run;
        await app.Get<ModelRegistry>().PromoteAsync(run.Id, "test", "region set check", Ct);
        ModelHost Host(string regionSet) => new(app.Get<ModelRegistry>(), app.Get<OnnxSessionFactory>(), app.Get<IDocumentEncoder>(),
            Options.Create(new EmbeddingOptions { RegionSet = regionSet }), Microsoft.Extensions.Logging.Abstractions.NullLogger<ModelHost>.Instance);

        using var bands = Host("bands");
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => bands.ReloadAsync(Ct));
        Assert.Contains($"run {run.Id} reads 5632 region features, but this process computes 2048 (the 'bands' regions, Embedding:RegionSet)", refused.Message);
        Assert.Equal(refused.Message, bands.LoadFailure);
        Assert.Null(bands.RunId);

        using var all = Host("all");
        Assert.Equal(run.Id, await all.ReloadAsync(Ct));
        Assert.True(all.ReadsRegions);
    }

    /// <summary>
    /// While some documents' region features are missing (the embedding stage computes them after the vectors), a champion
    /// whose recipe reads them cannot be re-run on every document: it is kept, not replaced by a recipe without them.
    /// </summary>
    [Fact]
    public async Task WhileRegionFeaturesAreMissingAChampionThatReadsThemIsKept()
    {
        var training = app.Get<TrainingService>();
        var first = await training.TrainAsync(0, null, "test", Ct, fused: [("fused-tr", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Regions))]);
        var champion = first.Runs.First(r => r.Run.Name == "fused-tr").Run;
        await app.Get<ModelRegistry>().PromoteAsync(champion.Id, "test", "champion reading regions", Ct);
        var doc = (await app.Get<TrainingDataLoader>().LoadAllAsync(Ct))[0];
        const string aside = "UPDATE embedding.page_features SET version = version || @suffix WHERE document_id = @id AND kind = 'regions'";
        try
        {
            // The document's region features as if not computed yet: stored under another version.
            await app.ExecuteAsync(aside, new { id = doc.DocumentId, suffix = "#aside" });
            Assert.Null((await app.Get<TrainingDataLoader>().LoadAllAsync(Ct)).Single(d => d.DocumentId == doc.DocumentId).Inputs.Regions);

            var report = await training.TrainAsync(0, null, "test", Ct, fused: [("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector))]);

            Assert.All(report.Runs, r => Assert.Equal("succeeded", r.Run.Status));
            Assert.DoesNotContain(report.Runs, r => r.Run.Name.EndsWith("(champion's recipe)", StringComparison.Ordinal));
            Assert.False(report.Promotion!.Promoted);
            Assert.Equal(champion.Id, report.Promotion.ChampionRunId);
            Assert.Equal(champion.Id, await app.Get<ModelRegistry>().ChampionRunIdAsync(Ct));
            Assert.StartsWith($"champion run {champion.Id} kept: its recipe reads region features that 1 labelled document(s) lack yet",
                report.Promotion.Message);
        }
        finally
        {
            await app.ExecuteAsync("UPDATE embedding.page_features SET version = left(version, -length('#aside')) WHERE document_id = @id AND version LIKE '%#aside'",
                new { id = doc.DocumentId });
        }
    }

    [Fact]
    public void ARecipeWithoutItsRegionFeaturesIsItsStandIn()
    {
        string Json(string name) => FusedRecipes.Named(name).ToJson();
        Assert.True(FusedRecipes.IsStandIn(Json("fused-tvc"), Json("fused-tvrc")));
        Assert.True(FusedRecipes.IsStandIn(Json("fused-tv"), Json("fused-tvr")));
        Assert.True(FusedRecipes.IsStandIn(Json("fused-t"), Json("fused-tr")));
        Assert.False(FusedRecipes.IsStandIn(Json("fused-tvrc"), Json("fused-tvc")));
        Assert.False(FusedRecipes.IsStandIn(Json("fused-tvc"), Json("fused-tvr"))); // the cues view too
        Assert.False(FusedRecipes.IsStandIn(Json("fused-tv"), Json("fused-tvrc")));
        Assert.False(FusedRecipes.IsStandIn(Json("fused-tvc"), Json("fused-tvc")));
        Assert.False(FusedRecipes.IsStandIn((FusedRecipes.Named("fused-tvc") with { Calibrate = false }).ToJson(), Json("fused-tvrc")));
        Assert.False(FusedRecipes.IsStandIn("""{"hidden":[64],"epochs":5}""", Json("fused-tvrc")));
    }

    /// <summary>
    /// A champion whose recipe stood in for one that reads the region features (trained while documents lacked them, as
    /// the default plan's <c>fused-tvc</c> does for <c>fused-tvrc</c>) gives way to that recipe as soon as it runs on the
    /// same folds with a better mean, without a win by more than the noise: otherwise the stand-in's incumbency would keep
    /// the recommended recipe out for good. A stand-in a person chose is challenged as any champion.
    /// </summary>
    [Fact]
    public async Task AChampionThatStoodInWithoutTheRegionFeaturesGivesWayToTheRecipeThatReadsThemWhenItScoresBetter()
    {
        var training = app.Get<TrainingService>();
        var registry = app.Get<ModelRegistry>();
        var standIn = CvRecipes.Fused(ViewKinds.Text);
        var recipe = CvRecipes.Fused(ViewKinds.Text, ViewKinds.Regions);
        var first = await WhileADocumentLacksItsRegionFeaturesAsync(async () =>
            (await training.TrainAsync(0, null, "test", Ct, fused: [("stand-in", standIn)])).Runs.Single(r => r.Run.Name == "stand-in").Run);
        await registry.RecordAsync(first.Id, await registry.ChampionRunIdAsync(Ct), PromotionKinds.Automatic, "first champion: stood in", "test", Ct);

        var report = await training.TrainAsync(0, null, "test", Ct, fused: [("with-regions", recipe)]);

        Assert.Equal(["with-regions", "stand-in (champion's recipe)"], report.Runs.Select(r => r.Run.Name));
        var (withRegions, refit) = (report.Runs[0].Run, report.Runs[1].Run);
        Assert.True(withRegions.TestAccuracy > refit.TestAccuracy, $"the recipe with regions {withRegions.TestAccuracy:P1} vs its stand-in {refit.TestAccuracy:P1}");
        Assert.True(report.Promotion!.Promoted, report.Promotion.Message);
        Assert.Equal(withRegions.Id, await registry.ChampionRunIdAsync(Ct));
        var reason = await app.ScalarAsync<string>("SELECT reason FROM training.promotions ORDER BY id DESC LIMIT 1");
        // The better mean decides between a recipe and its stand-in: no paired comparison with a noise margin.
        Assert.StartsWith("with-regions replaces the champion's recipe stand-in (champion's recipe), which stood in for it without the region features " +
            $"while documents lacked them: {withRegions.TestAccuracy:P1} against {refit.TestAccuracy:P1} on the same folds (run {withRegions.Id}): its recipe is still the best", reason);

        // Chosen by a person, or promoted by a job while every document had its region features (it won), the same recipe
        // is challenged as any champion: no stand-in rule.
        await registry.PromoteAsync(first.Id, "test", "a person prefers the text alone", Ct);
        await AssertChallengedAsAnyChampionAsync(first.Id);
        var fair = (await training.TrainAsync(0, null, "test", Ct, fused: [("stand-in", standIn)])).Runs.Single(r => r.Run.Name == "stand-in").Run;
        await registry.RecordAsync(fair.Id, await registry.ChampionRunIdAsync(Ct), PromotionKinds.Automatic, "challenger wins: it won", "test", Ct);
        await AssertChallengedAsAnyChampionAsync(fair.Id);

        async Task AssertChallengedAsAnyChampionAsync(long championId)
        {
            var before = await app.ScalarAsync<long>("SELECT max(id) FROM training.promotions");
            var job = await training.TrainAsync(0, null, "test", Ct, fused: [("with-regions", recipe)]);
            var reasons = await app.QueryAsync<string>("SELECT reason FROM training.promotions WHERE id > @before", new { before });
            if (job.Promotion!.Promoted)
                Assert.DoesNotContain(reasons, r => r.StartsWith("with-regions replaces", StringComparison.Ordinal));
            else
                Assert.Equal(championId, await registry.ChampionRunIdAsync(Ct));
            Assert.DoesNotContain("stood in", job.Promotion.Message);
        }
    }

    /// <summary>A labelled document's processed page damaged on disk: training reads it as a blank page (as a missing one)
    /// instead of every job failing on it.</summary>
    [Fact]
    public async Task ADamagedProcessedPageDoesNotStopTraining()
    {
        var loader = app.Get<TrainingDataLoader>();
        var document = (await loader.LoadAllAsync(Ct))[0];
        var relative = await app.ScalarAsync<string>(
            "SELECT file_path FROM pipeline.processed_images WHERE document_id = @id ORDER BY created_at DESC, id DESC LIMIT 1", new { id = document.DocumentId });
        var png = Path.Combine(app.Get<Dsdc.Shared.DsdcPaths>().DataDir, relative);
        var original = await File.ReadAllBytesAsync(png, Ct);
        Assert.Contains(document.Inputs.Layout, v => v != 0f);
        await File.WriteAllBytesAsync(png, "not a PNG any more"u8.ToArray(), Ct);
        try
        {
            var all = await loader.LoadAllAsync(Ct);
            var split = await loader.LoadAsync(Ct, withPages: true);

            Assert.All(all.Single(d => d.DocumentId == document.DocumentId).Inputs.Layout, v => Assert.Equal(0f, v));
            Assert.Equal(document.Inputs.Vector, all.Single(d => d.DocumentId == document.DocumentId).Inputs.Vector);
            var pages = split.PagesOf([.. split.Train, .. split.Validation, .. split.Test]);
            Assert.Equal(all.Count, pages.Count);
            Assert.All(pages.Single(p => p.DocumentId == document.DocumentId).Inputs.Layout, v => Assert.Equal(0f, v));
        }
        finally
        {
            await File.WriteAllBytesAsync(png, original, Ct);
        }
    }

    /// <summary>The processed pages are decoded only for a model that reads their layout: fitting production's recipe, as a
    /// job (or its skip) does, reads none, and a page's layout is read once, on first use.</summary>
    [Fact]
    public async Task TrainingDecodesNoPageForCandidatesThatReadNoLayout()
    {
        var pages = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        Assert.All(pages, p => Assert.False(p.Inputs.LayoutRead));

        var model = FusedModel.Train(FusedRecipes.Named("fused-tvrc"), pages, Ct);
        Assert.NotEmpty(model.Views);
        Assert.All(pages, p => Assert.False(p.Inputs.LayoutRead));

        var first = pages[0].Inputs;
        var layout = first.Layout;
        Assert.True(first.LayoutRead);
        Assert.Contains(layout, v => v != 0f);
        Assert.Same(layout, first.Layout);
        Assert.Same(layout, (first with { RawText = "another reading" }).Layout);
    }

    /// <summary>Every configured candidate reads the region features, which a document lacks yet: the job says there is
    /// nothing to train yet and records no job, so the next one, once the features are computed, trains.</summary>
    [Fact]
    public async Task WithOnlyCandidatesThatReadTheMissingRegionFeaturesNothingTrainsAndNoJobIsRecorded()
    {
        var training = new TrainingService(app.Get<TrainingDataLoader>(), app.Get<TrainingStore>(), app.Get<ModelRegistry>(),
            app.Get<IDocumentEncoder>(), app.Get<Dsdc.Shared.DsdcPaths>(),
            Options.Create(new TrainingOptions { Candidates = ["fused-tvrc"], RunsPerJob = 0, MinDocuments = 16, CvRepeats = 1 }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<TrainingService>.Instance);
        var jobs = await app.ScalarAsync<long>("SELECT count(*) FROM training.jobs");

        var waiting = await WhileADocumentLacksItsRegionFeaturesAsync(() => training.TrainAsync(null, null, "schedule", Ct, skipWhenUnchanged: true));

        Assert.Empty(waiting.Runs);
        Assert.StartsWith("nothing to train yet: every candidate of Training:Candidates (fused-tvrc) reads the region features, and 1 of the", waiting.Skipped);
        Assert.Equal(jobs, await app.ScalarAsync<long>("SELECT count(*) FROM training.jobs"));
    }

    /// <summary>Runs <paramref name="work"/> while the first document's region features are stored under another version, as
    /// if the embedding stage had not computed them yet.</summary>
    private async Task<T> WhileADocumentLacksItsRegionFeaturesAsync<T>(Func<Task<T>> work)
    {
        var doc = (await app.Get<TrainingDataLoader>().LoadAllAsync(Ct))[0];
        await app.ExecuteAsync("UPDATE embedding.page_features SET version = version || '#aside' WHERE document_id = @id AND kind = 'regions'", new { id = doc.DocumentId });
        try
        {
            Assert.Null((await app.Get<TrainingDataLoader>().LoadAllAsync(Ct)).Single(d => d.DocumentId == doc.DocumentId).Inputs.Regions);
            return await work();
        }
        finally
        {
            await app.ExecuteAsync("UPDATE embedding.page_features SET version = left(version, -length('#aside')) WHERE document_id = @id AND version LIKE '%#aside'",
                new { id = doc.DocumentId });
        }
    }

    /// <summary>The same on the stored split: the recipe that reads the region features replaces its stand-in when it scores
    /// better than the stand-in's refit on the same test documents.</summary>
    [Fact]
    public async Task OnTheStoredSplitAStandInGivesWayToTheRecipeThatReadsTheRegionFeaturesWhenItScoresBetter()
    {
        var registry = app.Get<ModelRegistry>();
        var training = new TrainingService(app.Get<TrainingDataLoader>(), app.Get<TrainingStore>(), registry,
            app.Get<IDocumentEncoder>(), app.Get<Dsdc.Shared.DsdcPaths>(), Options.Create(new TrainingOptions { TestSidePerClass = 0, MinDocuments = 16 }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<TrainingService>.Instance);
        var first = await WhileADocumentLacksItsRegionFeaturesAsync(async () =>
            (await training.TrainAsync(0, null, "test", Ct, fused: [("stand-in", CvRecipes.Fused(ViewKinds.Text))])).Runs.Single(r => r.Run.Name == "stand-in").Run);
        Assert.Equal("test-split", first.Evaluation);
        await registry.RecordAsync(first.Id, await registry.ChampionRunIdAsync(Ct), PromotionKinds.Automatic, "first champion: stood in", "test", Ct);

        var report = await training.TrainAsync(0, null, "test", Ct, fused: [("with-regions", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Regions))]);

        Assert.Equal(["with-regions", "stand-in (champion's recipe)"], report.Runs.Select(r => r.Run.Name));
        var (withRegions, refit) = (report.Runs[0].Run, report.Runs[1].Run);
        Assert.True(withRegions.TestAccuracy > refit.TestAccuracy, $"the recipe with regions {withRegions.TestAccuracy:P1} vs its stand-in {refit.TestAccuracy:P1}");
        Assert.True(report.Promotion!.Promoted, report.Promotion.Message);
        Assert.Equal(withRegions.Id, await registry.ChampionRunIdAsync(Ct));
        Assert.Equal($"with-regions replaces the champion's recipe stand-in (champion's recipe), which stood in for it without the region features " +
            $"while documents lacked them: {withRegions.TestAccuracy:P1} against {refit.TestAccuracy:P1} on the same {refit.TestSize} test documents (run {withRegions.Id})",
            await app.ScalarAsync<string>("SELECT reason FROM training.promotions ORDER BY id DESC LIMIT 1"));
    }

    /// <summary>
    /// An upgrade that redefines a recipe (the text view of <c>fused-tvr</c> came to read every OCR reading): the default
    /// plan re-runs the champion's recipe as this version defines the name, so that its refit (or a challenger that beats
    /// it) replaces the champion trained the old way, without waiting for a win by more than the noise; and a recipe whose
    /// place a successor took among the recommended ones (<c>fused-tvr</c>: <c>fused-tvrc</c>, with the cues view) is re-run
    /// as its successor. A plan given in code, or a champion a person chose, re-runs the recipe as its run recorded it.
    /// </summary>
    [Fact]
    public async Task TheDefaultPlanRefitsAChampionWithItsRecipeAsThisVersionDefinesIt()
    {
        var training = app.Get<TrainingService>();
        var registry = app.Get<ModelRegistry>();
        var before = CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector, ViewKinds.Regions);
        Assert.NotEqual(FusedRecipes.Named("fused-tvr").ToJson(), before.ToJson());
        var old = (await training.TrainAsync(0, null, "test", Ct, fused: [("fused-tvr", before)])).Runs.First(r => r.Run.Name == "fused-tvr").Run;
        async Task ChampionAsync(string kind)
        {
            var current = await registry.ChampionRunIdAsync(Ct);
            await (kind == PromotionKinds.Manual && current != old.Id
                ? registry.PromoteAsync(old.Id, "test", "a champion a person chose", Ct)
                : registry.RecordAsync(old.Id, current, kind, "a champion promoted before the upgrade", "test", Ct));
            Assert.Equal(old.Id, await registry.ChampionRunIdAsync(Ct));
            Assert.Equal(kind, (await app.Get<TrainingStore>().PromotionsAsync(Ct))[^1].Kind);
        }
        bool AsRecorded(RunOutcome r) => r.Run.Name == "fused-tvr (champion's recipe)"
            && System.Text.Json.JsonSerializer.Deserialize<FusedParameters>(r.Run.Parameters)!.ToJson() == before.ToJson();

        await ChampionAsync(PromotionKinds.Automatic);
        Assert.Contains((await training.TrainAsync(0, null, "test", Ct, fused: [("fused-t", CvRecipes.Fused(ViewKinds.Readings))])).Runs, AsRecorded);
        await ChampionAsync(PromotionKinds.Manual);
        var chosen = await training.TrainAsync(0, null, "test", Ct);
        Assert.Equal(["fused-tvrc", "fused-tvc", "fused-tvr (champion's recipe)"], chosen.Runs.Select(r => r.Run.Name));
        var chosenRefit = chosen.Runs.Single(AsRecorded).Run;
        // A chosen recipe stays chosen when a job refits it on new labels.
        await registry.RecordAsync(chosenRefit.Id, await registry.ChampionRunIdAsync(Ct), PromotionKinds.Automatic,
            $"champion's recipe refitted on today's documents (run {chosenRefit.Id}): new labels", "test", Ct);
        Assert.Contains((await training.TrainAsync(0, null, "test", Ct)).Runs, AsRecorded);

        await ChampionAsync(PromotionKinds.Automatic);
        var report = await training.TrainAsync(0, null, "test", Ct);

        // fused-tvrc took fused-tvr's place among the recommended recipes: it is the champion's recipe now.
        Assert.Equal(["fused-tvrc", "fused-tvc"], report.Runs.Select(r => r.Run.Name));
        Assert.All(report.Runs, r => Assert.Equal("succeeded", r.Run.Status));
        Assert.True(report.Promotion!.Promoted, report.Promotion.Message);
        var champion = await registry.ChampionRunIdAsync(Ct);
        Assert.NotEqual(old.Id, champion);
        var now = report.Runs.Single(r => r.Run.Id == champion).Run;
        Assert.Contains($"\"{ViewKinds.Readings}\"", now.Parameters);
        var reason = await app.ScalarAsync<string>("SELECT reason FROM training.promotions WHERE run_id = @id ORDER BY id DESC LIMIT 1", new { id = now.Id });
        Assert.Contains($"\"{ViewKinds.Cues}\"", now.Parameters);
        Assert.StartsWith(now.Name == "fused-tvrc"
            ? $"champion's recipe refitted on today's documents as this version defines it ({FusedRecipes.Named("fused-tvrc").ToJson()}, was {before.ToJson()})"
            : "challenger wins", reason);
    }

    /// <summary>
    /// A labelled document whose region features can never be computed (its stored original gone) is tried three times by
    /// the embedding stage, then given up on: training leaves it out instead of waiting for it (which would keep a
    /// champion that reads regions unrefitted for good), and the stage stops trying it.
    /// </summary>
    [Fact]
    public async Task ADocumentWhoseRegionFeaturesCannotBeComputedIsGivenUpOnAfterThreeTries()
    {
        var loader = app.Get<TrainingDataLoader>();
        var job = app.Get<EmbeddingJob>();
        var doc = (await loader.LoadAllAsync(Ct))[1];
        var file = Path.Combine(app.DataDir, await app.ScalarAsync<string>("SELECT file_path FROM ingestion.documents WHERE id = @id", new { id = doc.DocumentId }));
        const string aside = "UPDATE embedding.page_features SET version = version || '#aside' WHERE document_id = @id AND kind = 'regions'";
        Assert.Equal(0, await job.CountMissingFeaturesAsync(Ct)); // the app's pipeline computed every document's
        try
        {
            // Its region features as if never computed, and its original unreadable.
            await app.ExecuteAsync(aside, new { id = doc.DocumentId });
            File.Move(file, file + ".gone");
            var failedBefore = Dsdc.Pipeline.PipelineMetrics.StageDocuments.WithLabels("embedding", "failed").Value;

            for (var run = 1; run <= 3; run++)
            {
                Assert.Equal(1, await job.CountMissingFeaturesAsync(Ct));
                // Before the third failure it is still waited for: listed, without region features.
                Assert.Null((await loader.LoadAllAsync(Ct)).Single(d => d.DocumentId == doc.DocumentId).Inputs.Regions);
                Assert.Equal(0, await job.AddPageFeaturesAsync(10, Ct));
                Assert.Equal(run, await app.ScalarAsync<int>("SELECT attempts FROM embedding.page_feature_failures WHERE document_id = @id", new { id = doc.DocumentId }));
            }

            Assert.Equal(0, await job.CountMissingFeaturesAsync(Ct));
            // Each failed try is counted where the pipeline's dashboard looks (documents by stage and outcome).
            Assert.True(Dsdc.Pipeline.PipelineMetrics.StageDocuments.WithLabels("embedding", "failed").Value >= failedBefore + 3);
            var all = await loader.LoadAllAsync(Ct);
            Assert.DoesNotContain(all, d => d.DocumentId == doc.DocumentId);
            Assert.All(all, d => Assert.NotNull(d.Inputs.Regions));
            Assert.Contains("FileNotFoundException", await app.ScalarAsync<string>("SELECT error FROM embedding.features_given_up WHERE document_id = @id", new { id = doc.DocumentId }));
        }
        finally
        {
            if (File.Exists(file + ".gone")) File.Move(file + ".gone", file);
            await app.ExecuteAsync("DELETE FROM embedding.page_feature_failures WHERE document_id = @id", new { id = doc.DocumentId });
            await app.ExecuteAsync("UPDATE embedding.page_features SET version = left(version, -length('#aside')) WHERE document_id = @id AND version LIKE '%#aside'",
                new { id = doc.DocumentId });
        }
    }

    /// <summary>A document whose processed image cannot be read (gone, or damaged on disk) is given up on by the encoder
    /// after three tries, instead of being queued by every pipeline run for good or failing every embedding job.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ADocumentWhoseProcessedImageCannotBeReadIsGivenUpOnByTheEncoderAfterThreeTries(bool damaged)
    {
        var job = app.Get<EmbeddingJob>();
        var doc = (await app.Get<TrainingDataLoader>().LoadAllAsync(Ct))[2];
        var image = Path.Combine(app.DataDir, await app.ScalarAsync<string>(
            "SELECT file_path FROM pipeline.images WHERE document_id = @id ORDER BY created_at DESC, id DESC LIMIT 1", new { id = doc.DocumentId }));
        Assert.Equal(0, await job.CountMissingAsync(Ct));
        try
        {
            // Its vector as if never computed, and its processed image unreadable.
            await app.ExecuteAsync("UPDATE embedding.embeddings SET encoder_version = encoder_version || '#aside' WHERE document_id = @id", new { id = doc.DocumentId });
            File.Move(image, image + ".gone");
            if (damaged) await File.WriteAllBytesAsync(image, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3], Ct);
            for (var run = 1; run <= 3; run++)
            {
                Assert.Equal(1, await job.CountMissingAsync(Ct));
                Assert.Equal(0, await job.EmbedMissingAsync(10, Ct));
            }
            Assert.Equal(0, await job.CountMissingAsync(Ct));
            var error = await app.ScalarAsync<string>(
                "SELECT error FROM embedding.features_given_up WHERE document_id = @id AND kind LIKE 'vector:%'", new { id = doc.DocumentId });
            if (damaged) Assert.False(string.IsNullOrWhiteSpace(error));
            else Assert.Contains("FileNotFoundException", error);
        }
        finally
        {
            if (File.Exists(image + ".gone"))
            {
                File.Delete(image);
                File.Move(image + ".gone", image);
            }
            await app.ExecuteAsync("DELETE FROM embedding.page_feature_failures WHERE document_id = @id", new { id = doc.DocumentId });
            await app.ExecuteAsync("UPDATE embedding.embeddings SET encoder_version = left(encoder_version, -length('#aside')) WHERE document_id = @id AND encoder_version LIKE '%#aside'",
                new { id = doc.DocumentId });
        }
    }

    [Fact]
    public async Task TheRecurringJobSkipsWhenNothingChangedAndTrainsWhenALabelDoes()
    {
        var training = app.Get<TrainingService>();
        var plan = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };
        // A job that trains (whatever the collection's other tests left), then the same job again: it skips.
        var first = await training.TrainAsync(0, null, "schedule", Ct, fused: plan);
        Assert.Null(first.Skipped);
        var second = await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);
        Assert.NotNull(second.Skipped);
        Assert.StartsWith("nothing changed", second.Skipped);
        Assert.Empty(second.Runs);

        // A person relabels one document: the next job trains again.
        var docs = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        var doc = docs[0];
        await app.ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@id, @label, 'human', 'tester')",
            new { id = doc.DocumentId, label = (short)((doc.Label + 1) % 16) });
        try
        {
            var third = await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);
            Assert.Null(third.Skipped);
            Assert.Contains(third.Runs, r => r.Run.Name == "fused-tv" && r.Run.Status == "succeeded");
        }
        finally
        {
            await app.ExecuteAsync("DELETE FROM ingestion.labels WHERE document_id = @id AND source = 'human'", new { id = doc.DocumentId });
        }
    }

    /// <summary>
    /// A run's model saw the labels its job read before the run started (the job reads them first, then cross-validates
    /// each candidate): the labels page counts the labels set since then as new to the champion, not those since the run.
    /// </summary>
    [Fact]
    public async Task TheLabelsAModelSawAreThoseItsJobReadBeforeItsRunStarted()
    {
        var plan = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };
        var report = await app.Get<TrainingService>().TrainAsync(0, null, "manual", Ct, fused: plan);
        var run = report.Runs.Select(r => r.Run).First(r => r.Name == "fused-tv" && r.Status == "succeeded");
        var job = await app.ScalarAsync<DateTime>("SELECT started_at FROM training.jobs ORDER BY id DESC LIMIT 1");
        var store = app.Get<TrainingStore>();

        var readAt = await store.DataReadAtAsync(run.StartedAt, Ct);

        Assert.Equal(job, readAt);
        Assert.True(readAt <= run.StartedAt, $"{readAt:O} after {run.StartedAt:O}");
        // A run older than every recorded job (recorded before jobs were kept): its own start.
        var early = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal(early, await store.DataReadAtAsync(early, Ct));
    }

    /// <summary>
    /// The same documents and labels, one of them processed again under the same encoder (another OCR setting gives
    /// another text and vector): the recurring job trains on the new inputs instead of finding that nothing changed.
    /// </summary>
    [Fact]
    public async Task ADocumentProcessedAgainIsNewDataForTheRecurringJob()
    {
        var training = app.Get<TrainingService>();
        var plan = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };
        await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);
        Assert.NotNull((await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true)).Skipped);
        var doc = (await app.Get<TrainingDataLoader>().LoadAllAsync(Ct))[0];
        var vector = await app.ScalarAsync<long>(
            "SELECT id FROM embedding.embeddings WHERE document_id = @id ORDER BY created_at DESC, id DESC LIMIT 1", new { id = doc.DocumentId });
        var original = await app.ScalarAsync<string>("SELECT embedding::text FROM embedding.embeddings WHERE id = @vector", new { vector });
        await app.ExecuteAsync("""
            UPDATE embedding.embeddings SET embedding = (SELECT array_agg(CASE WHEN i = 1 THEN x + 0.01 ELSE x END ORDER BY i)
                                                        FROM unnest(embedding::real[]) WITH ORDINALITY AS u(x, i))::vector
            WHERE id = @vector
            """, new { vector });
        try
        {
            var again = await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);

            Assert.Null(again.Skipped);
            Assert.Contains(again.Runs, r => r.Run.Name == "fused-tv" && r.Run.Status == "succeeded");
        }
        finally
        {
            await app.ExecuteAsync("UPDATE embedding.embeddings SET embedding = @original::vector WHERE id = @vector", new { original, vector });
        }
    }

    /// <summary>A job whose every run failed (out of memory, a full disk) trained nothing: it is recorded as failed, and the
    /// next job trains again on the same data instead of saying "nothing changed" until a label does. So does a job one of
    /// whose runs failed (partial): the candidate it could not compare is tried again.</summary>
    [Fact]
    public async Task AJobWhoseEveryRunFailedIsNotTakenForOneThatTrained()
    {
        static RunOutcome Run(string status) => new(new RunSummary(1, "r", "{}", "e", "1", 1, status, null, 1, 0, 0, null, null, null, null,
            null, "cpu", "test", DateTime.UtcNow, null, null), false);
        Assert.Equal("failed", TrainingService.JobOutcome(new TrainingReport([Run("failed")], null, null)));
        Assert.Equal("failed", TrainingService.JobOutcome(new TrainingReport([Run("failed"), Run("failed")], null, null)));
        Assert.Equal("partial", TrainingService.JobOutcome(new TrainingReport([Run("failed"), Run("succeeded")], null, null)));
        Assert.Equal("partial", TrainingService.JobOutcome(new TrainingReport([Run("succeeded"), Run("failed")], new PromotionResult(true, 1, "better"), null)));
        Assert.Equal("failed", TrainingService.JobOutcome(new TrainingReport([Run("succeeded"), Run("failed")], null, null) { Incomplete = true }));
        Assert.Equal("trained", TrainingService.JobOutcome(new TrainingReport([Run("succeeded"), Run("succeeded")], null, null)));
        Assert.Equal("promoted", TrainingService.JobOutcome(new TrainingReport([Run("succeeded")], new PromotionResult(true, 1, "better"), null)));
        // What a job repeats: the newest job that ran, when it read the same and trained its whole plan.
        static JobRecord Job(long id, string fingerprint, string outcome) => new(id, fingerprint, outcome);
        Assert.Null(TrainingService.UnchangedSince([], "F"));
        Assert.Equal(2, TrainingService.UnchangedSince([Job(2, "F", "trained"), Job(1, "F", "failed")], "F")?.Id);
        Assert.Equal(2, TrainingService.UnchangedSince([Job(2, "F", "promoted")], "F")?.Id);
        Assert.Null(TrainingService.UnchangedSince([Job(2, "F", "trained")], "G"));
        Assert.Null(TrainingService.UnchangedSince([Job(3, "F", "failed"), Job(2, "F", "trained")], "F"));
        Assert.Null(TrainingService.UnchangedSince([Job(3, "F", "partial"), Job(2, "F", "trained")], "F"));
        // A newer job that read something else (other candidates, a label changed and changed back) and promoted its
        // model, even partially: the same data as an older job is no reason to skip.
        Assert.Null(TrainingService.UnchangedSince([Job(3, "G", "partial"), Job(2, "F", "trained")], "F"));
        Assert.Null(TrainingService.UnchangedSince([Job(3, "G", "promoted"), Job(2, "F", "trained")], "F"));
        // A candidate that fails every time: tried again once, then not every hour.
        Assert.Equal(3, TrainingService.UnchangedSince([Job(3, "F", "partial"), Job(2, "F", "partial")], "F")?.Id);
        Assert.Null(TrainingService.UnchangedSince([Job(3, "F", "partial"), Job(2, "G", "partial")], "F"));

        var training = app.Get<TrainingService>();
        var plan = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };
        await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);
        var skipped = await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);
        Assert.StartsWith("nothing changed since training job", skipped.Skipped);

        // That job as if every run of it, or one of them, had failed: the next job trains.
        foreach (var outcome in new[] { "failed", "partial" })
        {
            var last = await app.ScalarAsync<long>("SELECT max(id) FROM training.jobs WHERE outcome <> 'skipped'");
            await app.ExecuteAsync("UPDATE training.jobs SET outcome = @outcome WHERE id = @last", new { outcome, last });
            var again = await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);

            Assert.Null(again.Skipped);
            Assert.Contains(again.Runs, r => r.Run.Name == "fused-tv" && r.Run.Status == "succeeded");
        }
        // The job that tried again after a partial one is partial too: the next one skips.
        await app.ExecuteAsync("UPDATE training.jobs SET outcome = 'partial' WHERE id = (SELECT max(id) FROM training.jobs WHERE outcome <> 'skipped')");
        Assert.StartsWith("nothing changed since training job", (await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true)).Skipped);
    }

    /// <summary>A champion trained by a job, and a second job on the same data that skips.</summary>
    private async Task<(TrainingService Training, ModelRegistry Registry, (string, FusedParameters)[] Plan, long Champion)> AChampionOnUnchangedDataAsync()
    {
        var training = app.Get<TrainingService>();
        var registry = app.Get<ModelRegistry>();
        var plan = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };
        await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);
        Assert.StartsWith("nothing changed since training job", (await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true)).Skipped);
        var champion = await registry.ChampionRunIdAsync(Ct) ?? throw new InvalidOperationException("a job promotes a first champion");
        return (training, registry, plan, champion);
    }

    /// <summary>Nothing changed, but one of the champion's view files is lost (its model.onnx and manifest are still there,
    /// so it looked servable): the job does not skip and replaces it, and a person cannot promote it back.</summary>
    [Fact]
    public async Task AChampionMissingOneOfItsViewFilesIsReplacedEvenWhenNothingChanged()
    {
        var (training, registry, plan, champion) = await AChampionOnUnchangedDataAsync();
        var modelsDir = app.Get<Dsdc.Shared.DsdcPaths>().ModelsDir;
        var dir = Path.Combine(modelsDir, ModelArtifacts.RelativeDir(champion));
        var view = ModelManifest.Read(Path.Combine(dir, ModelArtifacts.ManifestFile)).Views!.First(v => v.Features is not null);
        var file = Path.Combine(dir, view.Features!);
        File.Move(file, file + ".lost");
        try
        {
            Assert.Null(registry.TryArtifact(champion).Why); // model.onnx and the manifest read

            var job = await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);

            Assert.Null(job.Skipped);
            Assert.True(job.Promotion?.Promoted, job.Promotion?.Message);
            Assert.NotEqual(champion, await registry.ChampionRunIdAsync(Ct));
            var back = await registry.PromoteAsync(champion, "tester", null, Ct);
            Assert.False(back.Promoted, back.Message);
            Assert.Contains("view files cannot be read", back.Message);
            Assert.DoesNotContain(modelsDir, back.Message);
        }
        finally
        {
            File.Move(file + ".lost", file);
        }
    }

    /// <summary>Nothing changed, but the champion's files are gone (a lost models volume): the job does not skip, and a
    /// model that serves is promoted, instead of the zero-shot model answering until a label changes.</summary>
    [Fact]
    public async Task AChampionThatCannotServeIsReplacedEvenWhenNothingChanged()
    {
        var (training, registry, plan, champion) = await AChampionOnUnchangedDataAsync();
        var dir = Path.Combine(app.Get<Dsdc.Shared.DsdcPaths>().ModelsDir, ModelArtifacts.RelativeDir(champion));
        var moved = dir + ".lost";
        Directory.Move(dir, moved);
        try
        {
            var job = await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);

            Assert.Null(job.Skipped);
            Assert.True(job.Promotion?.Promoted, job.Promotion?.Message);
            var now = await registry.ChampionRunIdAsync(Ct);
            Assert.NotEqual(champion, now);
            Assert.Null(registry.TryArtifact(now!.Value).Why);
            // Once a champion serves again, nothing changed means nothing to do.
            Assert.StartsWith("nothing changed since training job", (await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true)).Skipped);
        }
        finally
        {
            Directory.Move(moved, dir);
        }
    }

    /// <summary>The champion's files are gone and this job's run of its recipe fails (out of memory, a full disk; here a
    /// recipe this version cannot fit): the best candidate is promoted, instead of the job keeping a champion that cannot
    /// serve, and the zero-shot model answering, for as long as its recipe fails.</summary>
    [Fact]
    public async Task AChampionThatCannotServeGivesWayEvenWhenItsRecipeFailsToRun()
    {
        var (training, registry, plan, champion) = await AChampionOnUnchangedDataAsync();
        var dir = Path.Combine(app.Get<Dsdc.Shared.DsdcPaths>().ModelsDir, ModelArtifacts.RelativeDir(champion));
        var moved = dir + ".lost";
        var recorded = await app.ScalarAsync<string>("SELECT parameters::text FROM training.runs WHERE id = @champion", new { champion });
        Directory.Move(dir, moved);
        await app.ExecuteAsync("""UPDATE training.runs SET parameters = '{"approach":"fused-ridge","views":[{"view":"retired-view","standardize":true}]}' WHERE id = @champion""",
            new { champion });
        try
        {
            var job = await training.TrainAsync(0, null, "schedule", Ct, fused: plan, skipWhenUnchanged: true);

            Assert.Contains(job.Runs, r => r.Run.Status == "failed" && r.Run.Name.EndsWith("(champion's recipe)", StringComparison.Ordinal));
            Assert.True(job.Promotion?.Promoted, job.Promotion?.Message);
            Assert.StartsWith("challenger wins: the champion cannot serve here (",
                await app.ScalarAsync<string>("SELECT reason FROM training.promotions ORDER BY id DESC LIMIT 1"));
            var now = await registry.ChampionRunIdAsync(Ct);
            Assert.NotEqual(champion, now);
            Assert.Null(registry.TryArtifact(now!.Value).Why);
        }
        finally
        {
            await app.ExecuteAsync("UPDATE training.runs SET parameters = @recorded::jsonb WHERE id = @champion", new { champion, recorded });
            Directory.Move(moved, dir);
        }
    }

    [Fact]
    public async Task TheNewLabelsCheckTrainsOnceEnoughLabelsWereSetSinceTheLastJob()
    {
        var training = app.Get<TrainingService>();
        var needed = app.Get<IOptions<TrainingOptions>>().Value.RetrainAfterLabels;
        var docs = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        Assert.True(docs.Count / 10 < needed, "the tenth of the documents would set the threshold");
        // A job (trained or skipped) marks the point from which labels count.
        await training.TrainAsync(0, null, "schedule", Ct, fused: [("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector))], skipWhenUnchanged: true);
        var corrected = docs.Take(needed).ToList();
        var pending = Enumerable.Range(0, needed).Select(i => $"{i:x2}".PadLeft(40, 'e')).ToArray();
        try
        {
            // One label fewer than the threshold: the check waits and trains nothing.
            foreach (var doc in corrected.SkipLast(1)) await CorrectAsync(doc);
            var waiting = await training.TrainOnNewLabelsAsync(Ct);
            Assert.Empty(waiting.Runs);
            Assert.Matches($"^{needed - 1} document\\(s\\) labelled or given another class since training job \\d+; training starts at {needed}$", waiting.Skipped);

            // The threshold reached: it trains the default candidates, and the job says what started it.
            await CorrectAsync(corrected[^1]);
            var trained = await training.TrainOnNewLabelsAsync(Ct);
            Assert.Null(trained.Skipped);
            Assert.Contains(trained.Runs, r => r.Run.Status == "succeeded" && r.Run.TriggeredBy == "new-labels");

            // Counting starts again from that job.
            var again = await training.TrainOnNewLabelsAsync(Ct);
            Assert.Empty(again.Runs);
            Assert.StartsWith("0 document(s) labelled or given another class since training job", again.Skipped);

            // Labels that give no document another class count for nothing: the classes the documents have, confirmed again,
            // and corrections undone since (another class, then the one the job read). The check reads no document's inputs.
            var jobs = await app.ScalarAsync<long>("SELECT count(*) FROM training.jobs");
            foreach (var doc in corrected) await CorrectAsync(doc);
            foreach (var doc in corrected) await CorrectAsync(doc, 2);
            foreach (var doc in corrected) await CorrectAsync(doc);
            Assert.StartsWith("0 document(s) labelled or given another class since training job", (await training.TrainOnNewLabelsAsync(Ct)).Skipped);
            Assert.Equal(jobs, await app.ScalarAsync<long>("SELECT count(*) FROM training.jobs"));

            // Labels that change nothing a model trains on yet (stored documents whose inputs are not computed yet): the job
            // skips and records nothing, so they still count at the next check.
            await app.ExecuteAsync("""
                INSERT INTO ingestion.original_documents (id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height)
                SELECT id, 'pending.png', 'tests', 'raw/pending/' || id || '.png', 'image/png', 1, 1, 1, 1 FROM unnest(@ids) AS id;
                INSERT INTO ingestion.labels (document_id, label, source, created_by) SELECT id, 3, 'human', 'tester' FROM unnest(@ids) AS id;
                """, new { ids = pending });
            Assert.StartsWith("nothing changed since training job", (await training.TrainOnNewLabelsAsync(Ct)).Skipped);
            Assert.StartsWith("nothing changed since training job", (await training.TrainOnNewLabelsAsync(Ct)).Skipped);
            Assert.Equal(jobs, await app.ScalarAsync<long>("SELECT count(*) FROM training.jobs"));
        }
        finally
        {
            await app.ExecuteAsync("""
                DELETE FROM ingestion.labels WHERE (document_id = ANY(@ids) AND source = 'human') OR document_id = ANY(@pending);
                DELETE FROM ingestion.original_documents WHERE id = ANY(@pending);
                """, new { ids = corrected.Select(d => d.DocumentId).ToArray(), pending });
        }

        Task CorrectAsync(LabelledPage doc, int shift = 1) => app.ExecuteAsync(
            "INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@id, @label, 'human', 'tester')",
            new { id = doc.DocumentId, label = (short)((doc.Label + shift) % 16) });
    }

    /// <summary>Another process's training job holds the lock: the recurring job leaves at once and records nothing, instead
    /// of waiting for Hangfire's lock and failing; the command line waits, and trains once the lock is free. A lock whose
    /// connection died is free.</summary>
    [Fact]
    public async Task ATrainingJobThatFindsAnotherRunningSkipsAndTheCommandLineWaitsForIt()
    {
        Assert.Null(typeof(TrainingJob).GetMethod(nameof(TrainingJob.RunAsync), [typeof(TrainingTrigger), typeof(CancellationToken)])!
            .GetCustomAttributes(typeof(DisableConcurrentExecutionAttribute), false).SingleOrDefault());
        var training = app.Get<TrainingService>();
        var fusedTv = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };
        var jobs = await app.ScalarAsync<long>("SELECT count(*) FROM training.jobs");

        await using var other = new NpgsqlConnection(app.Database.ConnectionString + ";Pooling=false");
        await other.OpenAsync(Ct);
        await other.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = TrainingStore.JobLockKey });

        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("skipped: another training job is running", await app.Get<TrainingJob>().RunAsync(Ct));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"the busy job took {watch.Elapsed}");
        Assert.Equal(jobs, await app.ScalarAsync<long>("SELECT count(*) FROM training.jobs"));

        // The command line's job waits for the running one instead.
        var waiting = training.TrainAsync(0, null, "cli:tester", Ct, fused: fusedTv);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        Assert.False(waiting.IsCompleted, "the command line's job did not wait for the running one");
        // The other process dies with its lock held: the lock goes with its connection.
        await using (var admin = new NpgsqlConnection(app.Database.ConnectionString + ";Pooling=false"))
        {
            await admin.OpenAsync(Ct);
            Assert.True(await admin.ExecuteScalarAsync<bool>("SELECT pg_terminate_backend(@pid)", new { pid = other.ProcessID }));
        }
        var report = await waiting.WaitAsync(TimeSpan.FromMinutes(5), Ct);
        Assert.Null(report.Skipped);
        Assert.Contains(report.Runs, r => r.Run.Status == "succeeded" && r.Run.TriggeredBy == "cli:tester");
        Assert.Equal(jobs + 1, await app.ScalarAsync<long>("SELECT count(*) FROM training.jobs"));
    }

    [Fact]
    public async Task TheScheduleRegistersTheHourlyJobAndTheNewLabelsCheckUnlessTurnedOff()
    {
        var storage = app.Get<JobStorage>();
        async Task<Dictionary<string, string>> ScheduleAsync(bool enabled, int retrainAfterLabels, bool manages = true)
        {
            var o = new TrainingOptions { Enabled = enabled, RetrainAfterLabels = retrainAfterLabels, NewLabelsCron = "*/7 * * * *" };
            var schedules = new RecurringSchedules(app.Get<IRecurringJobManager>(), Options.Create(new JobsOptions { ManageSchedules = manages }),
                Microsoft.Extensions.Logging.Abstractions.NullLogger<RecurringSchedules>.Instance);
            await new TrainingSchedule(schedules, Options.Create(o)).StartAsync(Ct);
            using var connection = storage.GetConnection();
            return connection.GetRecurringJobs().Where(j => j.Id.StartsWith("train-", StringComparison.Ordinal))
                .ToDictionary(j => j.Id, j => $"{j.Cron} {j.Job.Method.Name}({string.Join(", ", j.Job.Args.Take(j.Job.Args.Count - 1))})");
        }
        try
        {
            Assert.Equal(new Dictionary<string, string>
            {
                [TrainingJob.RecurringId] = "0 * * * * RunAsync()",
                [TrainingJob.NewLabelsRecurringId] = "*/7 * * * * RunAsync(NewLabels)",
            }, await ScheduleAsync(enabled: true, retrainAfterLabels: 20));
            // A worker started without the app's settings (Jobs:ManageSchedules false, its default) changes nothing.
            Assert.Equal(2, (await ScheduleAsync(enabled: false, retrainAfterLabels: 0, manages: false)).Count);
            Assert.Equal([TrainingJob.RecurringId], (await ScheduleAsync(enabled: true, retrainAfterLabels: 0)).Keys);
            Assert.Empty(await ScheduleAsync(enabled: false, retrainAfterLabels: 20));
        }
        finally
        {
            await ScheduleAsync(enabled: false, retrainAfterLabels: 0);
        }
    }

    [Fact]
    public async Task TheZeroShotModelBeatsChanceOnRealPagesWithoutTraining()
    {
        var docs = await app.Get<TrainingDataLoader>().LoadAllAsync(Ct);
        var zeroShot = new ZeroShotModel(app.Get<IDocumentEncoder>());
        var correct = docs.Count(d => ClassificationMetrics.ArgMax(zeroShot.Predict(d.Inputs)) == d.Label);
        // Chance is 1/16 = 6.25%; nothing here was fitted to these pages.
        Assert.True(correct / (double)docs.Count >= 0.125, $"zero-shot {correct} of {docs.Count}");
    }
}

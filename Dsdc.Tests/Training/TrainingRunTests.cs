using Dsdc.Shared;
using Dsdc.Training;

namespace Dsdc.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class TrainingRunTests(TrainingApp app)
{
    /// <summary>MLP12 at learning rate 1e-3: the 1e-4 default needs more epochs than a test can spend on this little data.</summary>
    internal static readonly IReadOnlyList<(string, MlpParameters)> Good = [("mlp12-fast", KnownConfigurations.Mlp12 with { LearningRate = 1e-3 })];

    internal static readonly IReadOnlyList<(string, MlpParameters)> Bad =
        [("tiny", new MlpParameters([new LayerParameters(16, LayerParameters.Relu, null, 0.5), new LayerParameters(16, LayerParameters.Relu)], 1e-5))];

    [Fact]
    public async Task StoredSplitIsStableAndStratified()
    {
        var ct = TestContext.Current.CancellationToken;
        var loader = app.Get<TrainingDataLoader>();
        var first = await loader.LoadAsync(ct);
        var second = await loader.LoadAsync(ct);
        Assert.Equal(first.Test.Select(t => t.DocumentId), second.Test.Select(t => t.DocumentId));
        Assert.True(first.Train.Count + first.Validation.Count + first.Test.Count >= 60);
        // Every class with 5+ documents has documents on the test side.
        foreach (var cls in first.Train.Concat(first.Validation).Concat(first.Test).GroupBy(d => d.Label).Where(g => g.Count() >= 5))
            Assert.Contains(first.Test, t => t.Label == cls.Key);

        // Sides never move: forget one document's side, load again; it is assigned anew and every other keeps its side.
        var store = app.Get<TrainingStore>();
        var before = (await store.SplitAsync(ct)).ToDictionary(s => s.DocumentId, s => s.Side);
        var forgotten = first.Test[0].DocumentId;
        await app.ExecuteAsync("DELETE FROM training.splits WHERE document_id = @forgotten", new { forgotten });
        await loader.LoadAsync(ct);
        var after = (await store.SplitAsync(ct)).ToDictionary(s => s.DocumentId, s => s.Side);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before.Where(kv => kv.Key != forgotten), kv => Assert.Equal(kv.Value, after[kv.Key]));
    }

    /// <summary>
    /// Threshold: 25% accuracy, four times the 1/16 (6.25%) of chance, on real embeddings. With a few documents per class
    /// the run is estimated by cross-validation over all of them, and its model is fitted on all of them.
    /// </summary>
    [Fact]
    public async Task RunOnRealEmbeddingsLearnsAndIsRecorded()
    {
        var ct = TestContext.Current.CancellationToken;
        await app.ExecuteAsync("TRUNCATE training.promotions");
        var report = await app.Get<TrainingService>().TrainAsync(null, 150, "test", ct, Good);
        var run = Assert.Single(report.Runs).Run;
        Assert.Equal("succeeded", run.Status);
        Assert.Equal("cross-validation", run.Evaluation);
        Assert.True(run.TestAccuracy >= 0.25, $"cross-validated accuracy {run.TestAccuracy:P1} on {run.TestSize} documents");
        Assert.NotNull(run.AccuracySd);
        Assert.True(run.TrainSize >= 60 && run.TestSize == run.TrainSize && run.ValidationSize == 0);
        var epochs = await app.Get<ModelRegistry>().EpochsAsync(run.Id, ct);
        Assert.Equal(run.EpochsRun, epochs.Count);
        Assert.All(epochs, e => Assert.NotNull(e.ValidationLoss));
        var metrics = await app.Get<TrainingStore>().MetricsJsonAsync(run.Id, ct);
        Assert.Contains("confusion", metrics);
        Assert.Contains("precision", metrics);
        Assert.True(File.Exists(Path.Combine(app.ModelsDir, run.ArtifactPath!)));
        var manifest = ModelManifest.Read(Path.Combine(app.ModelsDir, "runs", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "model.json"));
        Assert.Equal(896, manifest.Dimensions);
        Assert.Equal(16, manifest.Classes.Count);
    }

    /// <summary>
    /// A class nobody labelled is never predicted by an MLP either (the original's networks softmax over all 16): its
    /// probability is 0 in training's scores and in the served artifact's, which agree, and the rest sums to 1.
    /// </summary>
    [Fact]
    public async Task AnMlpNeverPredictsAClassWithoutLabels()
    {
        var ct = TestContext.Current.CancellationToken;
        var pages = await app.Get<TrainingDataLoader>().LoadAllAsync(ct);
        const int hidden = 0;
        var hiddenPages = pages.Where(p => p.Label == hidden).Select(p => p.Inputs).ToList();
        Assert.NotEmpty(hiddenPages);
        await app.ExecuteAsync("CREATE TABLE hidden_labels AS SELECT * FROM ingestion.labels WHERE label = @hidden", new { hidden });
        try
        {
            await app.ExecuteAsync("DELETE FROM ingestion.labels WHERE label = @hidden", new { hidden });
            var report = await app.Get<TrainingService>().TrainAsync(null, 30, "test", ct, Good);
            var run = report.Runs.Single(r => r.Run.Name == Good[0].Item1).Run;
            Assert.Equal("succeeded", run.Status);

            using var runner = new ViewEnsembleRunner(app.Get<ModelRegistry>().Artifact(run.Id), OnnxMlpRunner.CpuSession);
            var served = runner.Predict(hiddenPages);
            Assert.All(served, p =>
            {
                Assert.Equal(0f, p[hidden]);
                Assert.Equal(1.0, p.Sum(x => (double)x), 4);
            });
            var known = pages.Where(p => p.Label != hidden).ToList();
            // Cross-validation's scores of the same recipe, a training side without the class.
            var cv = CvRecipes.ViewsRecipe(new ViewEnsembleParameters([new ViewParameters(ViewKinds.Vector, Good[0].Item2, 0, false)]),
                new TrainingSettings(20, 32, 5, 7))(known, hiddenPages.Select(p => new LabelledPage("x", hidden, p)).ToList(), ct);
            Assert.All(cv, p => Assert.Equal(0f, p[hidden]));
        }
        finally
        {
            await app.ExecuteAsync("INSERT INTO ingestion.labels OVERRIDING SYSTEM VALUE SELECT * FROM hidden_labels ON CONFLICT DO NOTHING; DROP TABLE hidden_labels");
        }
    }

    /// <summary>The production multi-view model on real pages: learns (same 25% threshold), and its artifact lists every view.</summary>
    [Fact]
    public async Task ViewModelRunLearnsAndRecordsEveryView()
    {
        var ct = TestContext.Current.CancellationToken;
        var report = await app.Get<TrainingService>().TrainAsync(null, 150, "test", ct, [], [(ProductionViews.Name, ProductionViews.Linear)]);
        // Beside the champion's recipe, when a champion exists: it is re-run on the same folds.
        var run = report.Runs.Single(r => r.Run.Name == ProductionViews.Name).Run;
        Assert.Equal("succeeded", run.Status);
        Assert.True(run.TestAccuracy >= 0.25, $"test accuracy {run.TestAccuracy:P1} on {run.TestSize} documents");
        var dir = Path.Combine(app.ModelsDir, "runs", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var manifest = ModelManifest.Read(Path.Combine(dir, ModelArtifacts.ManifestFile));
        Assert.Equal(ProductionViews.Linear.Views.Select(v => v.View), manifest.Views!.Select(v => v.View));
        Assert.All(manifest.Views!, v => Assert.True(File.Exists(Path.Combine(dir, v.File)), v.File));
        Assert.NotNull(manifest.Views!.Single(v => v.View == ViewKinds.Text).Features);
        Assert.Equal(896, manifest.Dimensions);
    }

    /// <summary>With enough documents per class (here: no bar at all) candidates are scored on the stored test side, as is the champion.</summary>
    [Fact]
    public async Task WithEnoughDocumentsRunsAreScoredOnTheStoredTestSide()
    {
        var ct = TestContext.Current.CancellationToken;
        var service = new TrainingService(app.Get<TrainingDataLoader>(), app.Get<TrainingStore>(), app.Get<ModelRegistry>(),
            app.Get<Dsdc.Embedding.IDocumentEncoder>(), app.Get<Dsdc.Shared.DsdcPaths>(),
            Microsoft.Extensions.Options.Options.Create(new TrainingOptions { TestSidePerClass = 0, MinDocuments = 16 }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<TrainingService>.Instance);
        var report = await service.TrainAsync(0, null, "test", ct, fused: [("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector))]);
        var run = report.Runs.Single(r => r.Run.Name == "fused-tv").Run;
        Assert.Equal("test-split", report.Evaluation);
        Assert.Equal("test-split", run.Evaluation);
        Assert.Equal("succeeded", run.Status);
        Assert.True(run.TestSize > 0 && run.TrainSize > run.TestSize);
        Assert.True(run.TestAccuracy >= 0.25, $"test accuracy {run.TestAccuracy:P1} on {run.TestSize} documents");
        Assert.NotNull(report.Promotion);
        // The review threshold and the accuracy-coverage curve come from the test side, so its predictions can be flagged.
        var manifest = ModelManifest.Read(Path.Combine(app.ModelsDir, "runs", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), ModelArtifacts.ManifestFile));
        Assert.NotNull(manifest.ReviewThreshold);
        Assert.InRange(manifest.ReviewThreshold!.Value, 0, 1);
        Assert.Equal(manifest.ReviewThreshold, manifest.Metrics.TestReviewThreshold);
        Assert.NotNull(manifest.Metrics.TestCoverage);
        Assert.Equal(1.0, manifest.Metrics.TestCoverage![^1].Coverage, 9);
        Assert.Equal(run.TestAccuracy!.Value, manifest.Metrics.TestCoverage[^1].Accuracy, 9);
    }

    /// <summary>
    /// On the stored split, a champion selected by cross-validation was fitted on every labelled document, today's test
    /// side included: it is judged by its cross-validated estimate, not by its score on documents it trained on (which
    /// no challenger could beat).
    /// </summary>
    [Fact]
    public async Task OnTheStoredSplitAChampionFittedOnTheTestSideIsJudgedByItsCrossValidatedEstimate()
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = app.Get<ModelRegistry>();
        var fusedTv = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };
        var first = await app.Get<TrainingService>().TrainAsync(0, null, "test", ct, fused: fusedTv);
        var champion = first.Runs.First(r => r.Run.Name == "fused-tv").Run;
        Assert.Equal("cross-validation", champion.Evaluation);
        await registry.PromoteAsync(champion.Id, "test", "champion selected by cross-validation", ct);

        var service = new TrainingService(app.Get<TrainingDataLoader>(), app.Get<TrainingStore>(), registry,
            app.Get<Dsdc.Embedding.IDocumentEncoder>(), app.Get<Dsdc.Shared.DsdcPaths>(),
            Microsoft.Extensions.Options.Options.Create(new TrainingOptions { TestSidePerClass = 0, MinDocuments = 16 }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<TrainingService>.Instance);
        var report = await service.TrainAsync(0, null, "test", ct, fused: fusedTv);

        var run = report.Runs.Single(r => r.Run.Name == "fused-tv").Run;
        Assert.Equal("test-split", run.Evaluation);
        Assert.Contains($"vs champion run {champion.Id}'s cross-validated estimate {champion.TestAccuracy:P2}", report.Promotion!.Message);
        var better = run.TestAccuracy > champion.TestAccuracy || (run.TestAccuracy == champion.TestAccuracy && run.TestMacroF1 > champion.TestMacroF1);
        Assert.Equal(better, report.Promotion.Promoted);
    }

    /// <summary>
    /// A champion selected by cross-validation keeps the labels of its day no longer than a job on the stored split: once
    /// the labelled documents changed since it was fitted, the refit of its recipe replaces it unless it scores below the
    /// champion's estimate by more than the noise of its test side. On unchanged documents it stays.
    /// </summary>
    [Fact]
    public async Task OnTheStoredSplitAChampionSelectedByCrossValidationGivesWayToItsRefitOnceTheLabelsChanged()
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = app.Get<ModelRegistry>();
        var fusedTv = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };
        var champion = (await app.Get<TrainingService>().TrainAsync(0, null, "test", ct, fused: fusedTv)).Runs.First(r => r.Run.Name == "fused-tv").Run;
        Assert.Equal("cross-validation", champion.Evaluation);
        await registry.PromoteAsync(champion.Id, "test", "champion selected by cross-validation", ct);
        // An estimate no run on the split reaches.
        await app.ExecuteAsync("UPDATE training.runs SET test_accuracy = 1, test_macro_f1 = 1 WHERE id = @id", new { id = champion.Id });
        var service = SplitService();

        // The same documents and labels: nothing new to bring, the champion stays.
        var same = await service.TrainAsync(0, null, "test", ct, fused: fusedTv);
        Assert.False(same.Promotion!.Promoted, same.Promotion.Message);
        Assert.DoesNotContain("refit", same.Promotion.Message);
        Assert.Equal(champion.Id, await registry.ChampionRunIdAsync(ct));

        // The labels changed since it was fitted, but the refit scores far below an estimate of 100%: kept, and said why.
        await app.ExecuteAsync("UPDATE training.runs SET data_fingerprint = 'documents of an earlier day' WHERE id = @id", new { id = champion.Id });
        var below = await service.TrainAsync(0, null, "test", ct, fused: fusedTv);
        var belowRun = below.Runs.Single(r => r.Run.Name == "fused-tv").Run;
        Assert.False(below.Promotion!.Promoted, below.Promotion.Message);
        Assert.Contains($"the refit of its recipe on today's documents scores below the estimate by more than the noise (run {belowRun.Id} ", below.Promotion.Message);
        Assert.Equal(champion.Id, await registry.ChampionRunIdAsync(ct));

        // An estimate the refit matches (no challenger above it): the refit brings today's labels to the served model.
        await app.ExecuteAsync("UPDATE training.runs SET test_accuracy = @accuracy WHERE id = @id", new { accuracy = belowRun.TestAccuracy, id = champion.Id });
        var changed = await service.TrainAsync(0, null, "test", ct, fused: fusedTv);
        var refitRun = changed.Runs.Single(r => r.Run.Name == "fused-tv").Run;
        Assert.Equal(belowRun.TestAccuracy, refitRun.TestAccuracy); // the same documents, the same answers
        Assert.True(changed.Promotion!.Promoted, changed.Promotion.Message);
        Assert.StartsWith($"champion's recipe refitted on today's documents, whose labels changed since the champion was fitted (run {refitRun.Id} ",
            await ReasonAsync(refitRun.Id));
        Assert.Equal(refitRun.Id, await registry.ChampionRunIdAsync(ct));
    }

    [Theory]
    [InlineData(0.70, 0.70, 100, 0.0)]
    [InlineData(0.60, 0.70, 100, -2.1821789)]  // 0.1 / sqrt(0.21 / 100)
    [InlineData(0.90, 1.00, 50, -5.0)]         // an estimate of 1: one document's worth of error, sqrt((1/50) / 50) = 0.02
    public void TheRefitIsJudgedAgainstTheEstimateInBinomialStandardErrors(double accuracy, double estimate, int n, double z) =>
        Assert.Equal(z, TrainingService.BelowEstimateZ(accuracy, estimate, n), 6);

    /// <summary>
    /// A job plans its candidates against the champion of its start (it refits that champion's recipe). A person who
    /// promotes another run while it trains has the last word: the job promotes nothing over their choice.
    /// </summary>
    [Fact]
    public async Task APromotionMadeWhileAJobTrainsIsNotUndoneByTheJob()
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = app.Get<ModelRegistry>();
        var service = SplitService();
        var fusedTv = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };
        var champion = (await service.TrainAsync(0, null, "test", ct, fused: fusedTv)).Runs.First(r => r.Run.Name == "fused-tv").Run;
        var chosen = (await service.TrainAsync(0, null, "test", ct, fused: [("fused-t", CvRecipes.Fused(ViewKinds.Text))]))
            .Runs.First(r => r.Run.Name == "fused-t").Run;
        await registry.PromoteAsync(champion.Id, "test", "the champion the next job plans against", ct);
        Assert.Equal(champion.Id, await registry.ChampionRunIdAsync(ct));
        var before = await app.ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM training.runs");

        var job = service.TrainAsync(0, 400, "test", ct, Good, fused: fusedTv);
        // As soon as the job trains its first candidate, a person promotes another run.
        while (await app.ScalarAsync<long>("SELECT count(*) FROM training.runs WHERE id > @before", new { before }) == 0)
            await Task.Delay(5, ct);
        Assert.False(job.IsCompleted, "the job ended before the person's promotion: it is too fast for this test");
        var person = await registry.PromoteAsync(chosen.Id, "person", "chosen while a job trains", ct);
        Assert.True(person.Promoted, person.Message);
        var report = await job;

        Assert.Equal(chosen.Id, await registry.ChampionRunIdAsync(ct));
        Assert.False(report.Promotion!.Promoted, report.Promotion.Message);
        Assert.Contains($"the champion changed while this job trained (from run {champion.Id} to run {chosen.Id}", report.Promotion.Message);
    }

    private TrainingService SplitService() => new(app.Get<TrainingDataLoader>(), app.Get<TrainingStore>(), app.Get<ModelRegistry>(),
        app.Get<Dsdc.Embedding.IDocumentEncoder>(), app.Get<Dsdc.Shared.DsdcPaths>(),
        Microsoft.Extensions.Options.Options.Create(new TrainingOptions { TestSidePerClass = 0, MinDocuments = 16 }),
        Microsoft.Extensions.Logging.Abstractions.NullLogger<TrainingService>.Instance);

    /// <summary>
    /// On the stored split the challenger must be better than the champion by more than the noise on the same test
    /// documents (McNemar): an untrained champion gives way to a fused model; the same recipe fitted again on the same
    /// documents (the same answers) does not replace the champion; and when the champion was fitted on other documents
    /// (new labels since), the refit of its recipe, no worse, is promoted, so that new labels reach the served model.
    /// </summary>
    [Fact]
    public async Task OnTheStoredSplitAChallengerMustWinOnTheSameDocumentsByMoreThanTheNoise()
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = app.Get<ModelRegistry>();
        var service = SplitService();
        var fusedTv = new[] { ("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector)) };

        var untrained = (await service.TrainAsync(0, 1, "test", ct, Bad)).Runs.Single(r => r.Run.Name == "tiny").Run;
        Assert.Equal("test-split", untrained.Evaluation);
        await registry.PromoteAsync(untrained.Id, "test", "an untrained champion", ct);
        var first = await service.TrainAsync(0, null, "test", ct, fused: fusedTv);
        var fused = first.Runs.Single(r => r.Run.Name == "fused-tv").Run;
        // The champion's recipe is not in the plan: the job refits it all the same, and it is no challenger of its own.
        Assert.Contains(first.Runs, r => r.Run.Name == "tiny (champion's recipe)");
        Assert.True(first.Promotion!.Promoted, first.Promotion.Message);
        var reason = await ReasonAsync(fused.Id);
        Assert.StartsWith($"challenger wins: run {fused.Id} ", reason);
        Assert.Contains("McNemar z", reason);
        Assert.Equal(fused.Id, await registry.ChampionRunIdAsync(ct));

        // The same recipe on the same documents answers the same: no document tells them apart, the champion stays.
        var again = await service.TrainAsync(0, null, "test", ct, fused: fusedTv);
        Assert.False(again.Promotion!.Promoted, again.Promotion.Message);
        Assert.Contains("0 vs 0 documents, McNemar z 0.00 (threshold 1.64)", again.Promotion.Message);
        Assert.Equal(fused.Id, await registry.ChampionRunIdAsync(ct));

        // The champion was fitted on other documents (as after new labels): the refit of its recipe takes over.
        await app.ExecuteAsync("UPDATE training.runs SET data_fingerprint = 'documents of an earlier day' WHERE id = @id", new { id = fused.Id });
        var refit = await service.TrainAsync(0, null, "test", ct, fused: fusedTv);
        var refitRun = refit.Runs.Single(r => r.Run.Name == "fused-tv").Run;
        Assert.True(refit.Promotion!.Promoted, refit.Promotion.Message);
        Assert.StartsWith($"champion's recipe refitted on today's documents (run {refitRun.Id}", await ReasonAsync(refitRun.Id));
        Assert.Equal(refitRun.Id, await registry.ChampionRunIdAsync(ct));
    }

    /// <summary>
    /// On the stored split too, a job of the default plan refits a champion (promoted by a job) whose recipe this version
    /// redefined (<c>fused-tv</c>'s text view came to read every OCR reading) with the recipe as now defined, and that
    /// refit replaces it on the same documents unless it is worse by more than the noise.
    /// </summary>
    [Fact]
    public async Task OnTheStoredSplitTheDefaultPlanRefitsAChampionWithItsRecipeAsThisVersionDefinesIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = app.Get<ModelRegistry>();
        var service = SplitService();
        var before = CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector);
        var old = (await service.TrainAsync(0, null, "test", ct, fused: [("fused-tv", before)])).Runs.First(r => r.Run.Name == "fused-tv").Run;
        Assert.Equal("test-split", old.Evaluation);
        await registry.RecordAsync(old.Id, await registry.ChampionRunIdAsync(ct), PromotionKinds.Automatic, "a champion promoted before the upgrade", "test", ct);

        var report = await service.TrainAsync(0, null, "test", ct);

        Assert.Equal(["fused-tvrc", "fused-tvc"], report.Runs.Select(r => r.Run.Name));
        Assert.True(report.Promotion!.Promoted, report.Promotion.Message);
        var champion = report.Runs.Single(r => r.Run.Id == report.Promotion.ChampionRunId).Run;
        Assert.Contains($"\"{ViewKinds.Readings}\"", champion.Parameters);
        // The refit is promoted as such, or as a challenger when it beats the champion on the test side by more than the noise.
        var reason = await ReasonAsync(champion.Id);
        Assert.True(reason.StartsWith("challenger wins", StringComparison.Ordinal) || (champion.Name == "fused-tvc" && reason.StartsWith(
            $"champion's recipe refitted on today's documents as this version defines it ({champion.Parameters}, was {before.ToJson()})", StringComparison.Ordinal)), reason);
    }

    private Task<string> ReasonAsync(long runId) =>
        app.ScalarAsync<string>("SELECT reason FROM training.promotions WHERE run_id = @runId ORDER BY id DESC LIMIT 1", new { runId });

    [Fact]
    public void McNemarCountsOnlyTheDocumentsTheModelsDisagreeOn()
    {
        static bool[] Right(string s) => s.Select(c => c == '1').ToArray();

        // Five disagreements all in the challenger's favour are the fewest that win: z = (5 - 1) / sqrt(5).
        var five = PairedDocuments.Compare(Right("1111100000"), Right("0000000000"));
        Assert.Equal((5, 0), (five.ChallengerOnly, five.ChampionOnly));
        Assert.Equal(4 / Math.Sqrt(5), five.Z, 9);
        Assert.True(five.ChallengerWins);
        var four = PairedDocuments.Compare(Right("1111000000"), Right("0000000000"));
        Assert.Equal(1.5, four.Z, 9);
        Assert.False(four.ChallengerWins);
        // Agreements count for nothing, right or wrong; the other way round it loses by as much.
        var same = PairedDocuments.Compare(Right("1111111111"), Right("1111111111"));
        Assert.Equal(0, same.Z);
        Assert.False(same.ChallengerWins || same.ChallengerLoses);
        var worse = PairedDocuments.Compare(Right("0000000000"), Right("1111100000"));
        Assert.Equal(-4 / Math.Sqrt(5), worse.Z, 9);
        Assert.True(worse.ChallengerLoses);
        // 6 against 1: (5 - 1) / sqrt(7) = 1.51, not enough; a configured threshold of 1.5 lets it through.
        Assert.False(PairedDocuments.Compare(Right("1111110"), Right("0000001")).ChallengerWins);
        Assert.True(PairedDocuments.Compare(Right("1111110"), Right("0000001"), threshold: 1.5).ChallengerWins);
        Assert.Throws<ArgumentException>(() => PairedDocuments.Compare(Right("1"), Right("11")));
    }

    /// <summary>On the stored split, a champion this process cannot serve (trained on every region, the process computes the
    /// bands: Embedding:RegionSet changed) is replaced by the challenger, whatever it scored.</summary>
    [Fact]
    public async Task OnTheStoredSplitAChampionThisProcessCannotServeIsReplaced()
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = app.Get<ModelRegistry>();
        var first = await app.Get<TrainingService>().TrainAsync(0, null, "test", ct, fused: [("fused-tr", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Regions))]);
        var champion = first.Runs.First(r => r.Run.Name == "fused-tr").Run;
        await registry.PromoteAsync(champion.Id, "test", "champion on every region", ct);

        using var bands = new Dsdc.Embedding.RegionEncoder(app.Get<Dsdc.Embedding.OnnxSessionFactory>(), app.Get<Dsdc.ImageProcessing.IImagePreprocessor>(),
            Microsoft.Extensions.Options.Options.Create(new Dsdc.Embedding.EmbeddingOptions { RegionSet = "bands" }));
        var options = Microsoft.Extensions.Options.Options.Create(new TrainingOptions { TestSidePerClass = 0, MinDocuments = 16 });
        var loader = new TrainingDataLoader(app.Get<TrainingStore>(), app.Get<PageInputsLoader>(), app.Get<Dsdc.Embedding.IDocumentEncoder>(), bands, options);
        var service = new TrainingService(loader, app.Get<TrainingStore>(), registry, app.Get<Dsdc.Embedding.IDocumentEncoder>(), app.Get<Dsdc.Shared.DsdcPaths>(),
            options, Microsoft.Extensions.Logging.Abstractions.NullLogger<TrainingService>.Instance);
        var report = await service.TrainAsync(0, null, "test", ct, fused: [("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector))]);

        // The best run of the job (the champion's recipe may be refitted beside fused-tv) replaces the champion.
        var run = report.Runs.Single(r => r.BestOfJob).Run;
        Assert.Equal("test-split", report.Evaluation);
        Assert.True(report.Promotion!.Promoted);
        Assert.Equal(run.Id, await registry.ChampionRunIdAsync(ct));
        var reason = await app.ScalarAsync<string>("SELECT reason FROM training.promotions WHERE run_id = @id ORDER BY id DESC LIMIT 1", new { id = run.Id });
        Assert.StartsWith($"challenger wins: the champion cannot serve here (run {champion.Id} reads 5632 region features, but this process computes 2048", reason);
    }

    /// <summary>On the stored split a fit takes at most Training:MaxTrainingPerClass documents of each class (train and validation
    /// sides together); the run records how many, and the test side is untouched.</summary>
    [Fact]
    public async Task OnTheStoredSplitAFitTakesAtMostTheConfiguredDocumentsPerClass()
    {
        var ct = TestContext.Current.CancellationToken;
        var service = new TrainingService(app.Get<TrainingDataLoader>(), app.Get<TrainingStore>(), app.Get<ModelRegistry>(),
            app.Get<Dsdc.Embedding.IDocumentEncoder>(), app.Get<Dsdc.Shared.DsdcPaths>(),
            Microsoft.Extensions.Options.Options.Create(new TrainingOptions { TestSidePerClass = 0, MinDocuments = 16, MaxTrainingPerClass = 2, MaxTestDocuments = 1 }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<TrainingService>.Instance);
        // Two more test documents of the largest class, so that the test side holds several of one class.
        var manifest = await app.Get<TrainingDataLoader>().ManifestAsync(ct);
        var moved = manifest.Documents.Where(d => d.Side != SplitSides.Test).GroupBy(d => d.Label).OrderByDescending(g => g.Count()).First()
            .Take(2).ToList();
        Assert.All(moved, d => Assert.NotEqual(SplitSides.Test, d.Side));
        await app.ExecuteAsync("UPDATE training.splits SET side = 'test' WHERE document_id = ANY(@ids)", new { ids = moved.Select(d => d.DocumentId).ToArray() });
        RunSummary run;
        try
        {
            var report = await service.TrainAsync(0, null, "test", ct, fused: [("fused-tv", CvRecipes.Fused(ViewKinds.Text, ViewKinds.Vector))]);
            run = report.Runs.Single(r => r.Run.Name == "fused-tv").Run;
        }
        finally
        {
            foreach (var d in moved)
                await app.ExecuteAsync("UPDATE training.splits SET side = @Side WHERE document_id = @DocumentId", new { d.Side, d.DocumentId });
        }
        Assert.Equal("succeeded", run.Status);
        // A fused model fits on the train and validation sides together: 2 per class across both.
        Assert.Equal(2 * DocumentClasses.Count, run.TrainSize + run.ValidationSize);
        // And it is scored on a draw of the test side (Training:MaxTestDocuments), which keeps one document of each class at least.
        var testClasses = manifest.Documents.Where(d => d.Side == SplitSides.Test).Select(d => d.Label).Concat([moved[0].Label]).Distinct().Count();
        Assert.Equal(testClasses, run.TestSize);
        // The recorded training set is what the fit took: those documents, none of the test side.
        var store = app.Get<TrainingStore>();
        var set = await store.DatasetOfRunAsync(run.Id, ct);
        Assert.NotNull(set);
        Assert.Equal(2 * DocumentClasses.Count, set.Documents);
        var documents = new List<DatasetDocument>();
        await foreach (var d in store.DatasetDocumentsAsync(set.Id, ct)) documents.Add(d);
        Assert.Equal(set.Documents, documents.Count);
        Assert.All(documents.GroupBy(d => d.Label), g => Assert.Equal(2, g.Count()));
        var sides = (await store.SplitAsync(ct)).ToDictionary(a => a.DocumentId, a => a.Side);
        Assert.DoesNotContain(documents, d => sides[d.DocumentId] == SplitSides.Test);
        // Each row names the vector the fit read: the document's newest.
        await using var conn = await app.Get<Npgsql.NpgsqlDataSource>().OpenConnectionAsync(ct);
        var encoder = app.Get<Dsdc.Embedding.IDocumentEncoder>();
        var newest = (await Dapper.SqlMapper.QueryAsync<(string DocumentId, long Id)>(conn, """
            SELECT DISTINCT ON (document_id) document_id, id FROM embedding.vectors WHERE encoder = @Id AND encoder_version = @Version
            ORDER BY document_id, created_at DESC, id DESC
            """, new { encoder.Id, encoder.Version }))
            .ToDictionary(v => v.DocumentId, v => v.Id);
        Assert.All(documents, d => Assert.Equal(newest[d.DocumentId], d.VectorId));
    }

    /// <summary>
    /// A job decides from a manifest read one document at a time, without holding the inputs: its fingerprint is the one
    /// of every labelled document's loaded inputs, and the inputs it then loads leave out a document whose label changed
    /// since (what the job fits is what the fingerprint describes).
    /// </summary>
    [Fact]
    public async Task TheManifestFingerprintsTheInputsAndLoadingLeavesOutADocumentRelabelledSince()
    {
        var ct = TestContext.Current.CancellationToken;
        var loader = app.Get<TrainingDataLoader>();
        var manifest = await loader.ManifestAsync(ct);
        var all = await loader.LoadAllAsync(ct);
        Assert.Equal(all.Select(p => (p.DocumentId, p.Label, p.VectorId, p.Inputs.Regions is not null)),
            manifest.Documents.Select(d => (d.DocumentId, d.Label, d.VectorId, d.HasRegions)));
        Assert.Equal(manifest.Documents.Select(d => d.DocumentId).Order(StringComparer.Ordinal), manifest.Documents.Select(d => d.DocumentId));
        Assert.Equal(loader.Fingerprint(all), manifest.Fingerprint);
        Assert.NotEqual(loader.Fingerprint(all.Skip(1)), manifest.Fingerprint);

        var moved = manifest.Documents[0];
        await app.ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@DocumentId, @label, 'human', 'tests')",
            new { moved.DocumentId, label = (short)((moved.Label + 1) % DocumentClasses.Count) });
        try
        {
            var pages = await loader.PagesAsync(manifest.Documents, ct);
            Assert.Equal(manifest.Documents.Skip(1).Select(d => d.DocumentId), pages.Select(p => p.DocumentId));
            Assert.Equal(all.Skip(1).Select(p => p.Inputs.AllReadings), pages.Select(p => p.Inputs.AllReadings));
            Assert.NotEqual(manifest.Fingerprint, (await loader.ManifestAsync(ct)).Fingerprint);
        }
        finally
        {
            await app.ExecuteAsync("DELETE FROM ingestion.labels WHERE document_id = @DocumentId AND created_by = 'tests'", new { moved.DocumentId });
        }
    }

    /// <summary>
    /// A training set is recorded once for the same documents, labels and vectors, anew when a label differs, and is what a
    /// run was fitted on only once the run succeeded.
    /// </summary>
    [Fact]
    public async Task ATrainingSetIsRecordedOnceAndNamedOnlyBySucceededRuns()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = app.Get<TrainingStore>();
        var pages = await app.Get<TrainingDataLoader>().LoadAllAsync(ct);
        Assert.All(pages, p => Assert.True(p.VectorId > 0));

        var first = await store.RecordDatasetAsync("F-test", pages, "e", "1", "r1", ct);
        var again = await store.RecordDatasetAsync("F-test", pages, "e", "1", "r1", ct);
        var relabelled = await store.RecordDatasetAsync("F-test", [pages[0] with { Label = (pages[0].Label + 1) % DocumentClasses.Count }, .. pages.Skip(1)],
            "e", "1", "r1", ct);

        Assert.Equal(first, again);
        Assert.NotEqual(first, relabelled);
        var runId = await store.CreateRunAsync(new NewRun("lineage-test", "{}", "e", "1", 1, 0, "cpu", pages.Count, 0, pages.Count, "test"), ct);
        await store.SetDatasetAsync(runId, first, ct);
        Assert.Null(await store.DatasetOfRunAsync(runId, ct));
        await store.FailRunAsync(runId, "boom", 1, ct);
        Assert.Null(await store.DatasetOfRunAsync(runId, ct));
        var documents = new List<DatasetDocument>();
        await foreach (var d in store.DatasetDocumentsAsync(first, ct)) documents.Add(d);
        Assert.Equal(pages.OrderBy(p => p.DocumentId, StringComparer.Ordinal).Select(p => (p.DocumentId, p.Label, p.VectorId, p.Inputs.Regions is not null)),
            documents.Select(d => (d.DocumentId, d.Label, d.VectorId, d.HasRegions)));
    }

    /// <summary>
    /// The stored split decides only when every class really has enough documents on its test side: a class whose share
    /// would be enough but whose test side fell short (corrections moved documents to another class, never to another
    /// side) keeps the job on cross-validation.
    /// </summary>
    [Fact]
    public void TheStoredSplitDecidesOnlyWhenEveryClassHasEnoughTestDocumentsUnderItsCurrentLabel()
    {
        var options = new TrainingOptions { TestSidePerClass = 10, TestFraction = 0.15 };
        // 200 documents of two classes, the first 24 on the test side: 12 of each class, or 15 and 9 under their current labels.
        List<LabelledDocument> Documents(int count, Func<int, int> label) => Enumerable.Range(0, count)
            .Select(i => new LabelledDocument($"doc{i:D3}", label(i), i + 1, true, i < 24 ? SplitSides.Test : SplitSides.Train)).ToList();
        var all = Documents(200, i => i % 2);
        var short1 = Documents(200, i => i < 24 ? (i < 15 ? 0 : 1) : i % 2);

        Assert.True(TrainingService.UseCrossValidation(all.Take(100).ToList(), options));   // 50 per class: 7.5 expected
        Assert.False(TrainingService.UseCrossValidation(all, options));                   // 100 per class, 12 on the test side
        Assert.True(TrainingService.UseCrossValidation(short1, options));                 // about 100 per class, but 9 of class 1 there
        // Past Training:CrossValidationMaxDocuments the stored split decides whatever one class holds (0: no bound).
        Assert.False(TrainingService.UseCrossValidation(short1, new TrainingOptions { TestSidePerClass = 10, TestFraction = 0.15, CrossValidationMaxDocuments = 199 }));
        Assert.True(TrainingService.UseCrossValidation(short1, new TrainingOptions { TestSidePerClass = 10, TestFraction = 0.15, CrossValidationMaxDocuments = 200 }));
        Assert.True(TrainingService.UseCrossValidation(short1, new TrainingOptions { TestSidePerClass = 10, TestFraction = 0.15, CrossValidationMaxDocuments = 0 }));
    }

    /// <summary>
    /// The data fingerprint is the hash earlier versions recorded for the same documents (jobs and runs store it: an
    /// upgrade that changed it would make every installation retrain and refit its champion once). The value was computed
    /// outside .NET from the bytes hashed: "encoder@version|regions", then per document "id:label:r|-:length:", the text
    /// and readings in UTF-8 (length in UTF-16 units), the vector's floats little-endian, and a newline.
    /// </summary>
    [Fact]
    public void TheDataFingerprintIsTheOneEarlierVersionsRecorded()
    {
        using var fingerprint = new DataFingerprint("resnet18-minilm", "1", "r1");
        fingerprint.Add("a1", 3, new PageInputs([1f, -2.5f], "Résumé of Dr. A", []) { Regions = [0f], Readings = "Dear Sir\nsincerely" });
        fingerprint.Add("b2", 0, new PageInputs([0.25f], "", []));
        Assert.Equal("55675CD06306819B1B0D5E41F15206650265F2AD2F07F3AD1DE945EFFEF7AEE1", fingerprint.Finish());
        using var unordered = new DataFingerprint("resnet18-minilm", "1", "r1");
        unordered.Add("b2", 0, new PageInputs([0.25f], "", []));
        Assert.Throws<InvalidOperationException>(() => unordered.Add("a1", 3, new PageInputs([1f], "", [])));
    }

    [Fact]
    public void TheCapKeepsTheSameDocumentsOfEachClassAndNothingWhenOff()
    {
        var pages = Enumerable.Range(0, 40).Select(i => new LabelledDocument($"doc{i:D2}", i % 4, i + 1, true, SplitSides.Train)).ToList();

        var capped = TrainingService.AtMostPerClass(pages, 3, 42);

        Assert.Equal(12, capped.Count);
        Assert.All(capped.GroupBy(p => p.Label), g => Assert.Equal(3, g.Count()));
        // The same documents whatever order they come in; other ones under another seed.
        var again = TrainingService.AtMostPerClass(pages.AsEnumerable().Reverse().ToList(), 3, 42);
        Assert.Equal(capped.Select(p => p.DocumentId).Order(), again.Select(p => p.DocumentId).Order());
        Assert.NotEqual(capped.Select(p => p.DocumentId).Order(), TrainingService.AtMostPerClass(pages, 3, 7).Select(p => p.DocumentId).Order());
        Assert.Same(pages, TrainingService.AtMostPerClass(pages, 0, 42));
        Assert.Same(pages, TrainingService.AtMostPerClass(pages, 10, 42));

        // The test side's draw keeps each class's share: 30 and 10 documents drawn down to 20 are 15 and 5, the same ones
        // whatever the order; at least one of a class; nothing drawn under the bound or with 0.
        var unbalanced = Enumerable.Range(0, 41).Select(i => new LabelledDocument($"doc{i:D2}", i < 30 ? 0 : i < 40 ? 1 : 2, i + 1, true, SplitSides.Test)).ToList();
        var drawn = TrainingService.InProportion(unbalanced, 20, 42);
        Assert.Equal([15, 5, 1], drawn.GroupBy(d => d.Label).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.Equal(drawn.Select(d => d.DocumentId), TrainingService.InProportion(unbalanced.AsEnumerable().Reverse().ToList(), 20, 42).Select(d => d.DocumentId));
        Assert.Equal(drawn.Select(d => d.DocumentId).Order(StringComparer.Ordinal), drawn.Select(d => d.DocumentId));
        Assert.Same(unbalanced, TrainingService.InProportion(unbalanced, 41, 42));
        Assert.Same(unbalanced, TrainingService.InProportion(unbalanced, 0, 42));
    }
}

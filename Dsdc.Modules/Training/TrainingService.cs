using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dsdc.Embedding;
using Dsdc.Shared;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Training;

public sealed record RunOutcome(RunSummary Run, bool BestOfJob);

public sealed record TrainingReport(IReadOnlyList<RunOutcome> Runs, PromotionResult? Promotion, string? Skipped)
{
    /// <summary>How the job compared its candidates: <c>cross-validation</c> or <c>test-split</c>.</summary>
    public string Evaluation { get; init; } = "test-split";

    /// <summary>The job could not decide (the run of the champion's recipe failed, so nothing was compared with it): it is
    /// recorded as failed, and the next job trains again instead of finding that nothing changed.</summary>
    public bool Incomplete { get; init; }
}

/// <summary>
/// One training job. While the data is small (the stored test side would hold fewer than
/// <see cref="TrainingOptions.TestSidePerClass"/> documents of some class) every candidate recipe is estimated by
/// repeated stratified k-fold cross-validation over all labelled documents, the champion's recipe on the same folds,
/// and the served model is the winning recipe fitted on every labelled document; with more data each candidate trains
/// on the stored train side and is scored on the stored test side, as is the champion. Every run is recorded with its
/// estimate and exported, and can be promoted while it keeps its files (<see cref="TrainingOptions.KeepRunFiles"/>).
/// The recurring job skips when nothing it would train on changed.
/// </summary>
public sealed partial class TrainingService(
    TrainingDataLoader loader,
    TrainingStore store,
    ModelRegistry registry,
    IDocumentEncoder encoder,
    DsdcPaths paths,
    IOptions<TrainingOptions> options,
    ILogger<TrainingService> logger)
{
    /// <summary>
    /// One job. Without <paramref name="configurations"/>, <paramref name="viewModels"/> or <paramref name="fused"/>: the
    /// fused recipes of <see cref="TrainingOptions.Candidates"/> and <paramref name="runs"/> MLPs (the original's known
    /// configurations first, then random ones); with any of them, exactly those. With <paramref name="skipWhenUnchanged"/>
    /// the job does nothing when the documents, labels, encoders and candidates are those of the last job that trained,
    /// and records that it skipped unless <paramref name="recordSkip"/> is false. One job at a time across every process
    /// that shares the database: while another runs, this one waits for it to end, or with <paramref name="skipWhenBusy"/>
    /// leaves at once and says so (nothing recorded).
    /// </summary>
    public async Task<TrainingReport> TrainAsync(int? runs, int? epochs, string triggeredBy, CancellationToken ct,
        IReadOnlyList<(string Name, MlpParameters Parameters)>? configurations = null,
        IReadOnlyList<(string Name, ViewEnsembleParameters Parameters)>? viewModels = null,
        IReadOnlyList<(string Name, FusedParameters Parameters)>? fused = null,
        bool skipWhenUnchanged = false, bool recordSkip = true, bool skipWhenBusy = false)
    {
        Task<TrainingReport> Locked(CancellationToken c) =>
            TrainLockedAsync(runs, epochs, triggeredBy, configurations, viewModels, fused, skipWhenUnchanged, recordSkip, c);
        var (ran, report) = await store.OneJobAtATimeAsync(TimeSpan.Zero, Locked, ct);
        if (!ran && !skipWhenBusy)
        {
            logger.LogInformation("Another training job is running: waiting up to {Minutes:F0} minutes for it to end", BusyWait.TotalMinutes);
            (ran, report) = await store.OneJobAtATimeAsync(BusyWait, Locked, ct);
        }
        if (ran) return report;
        var why = skipWhenBusy ? "another training job is running" : $"another training job held the training lock for more than {BusyWait.TotalMinutes:F0} minutes";
        logger.LogInformation("Training skipped: {Reason}", why);
        return new TrainingReport([], null, why);
    }

    /// <summary>How long a job that does not skip when busy waits for the one running.</summary>
    private static readonly TimeSpan BusyWait = TimeSpan.FromHours(1);

    private async Task<TrainingReport> TrainLockedAsync(int? runs, int? epochs, string triggeredBy,
        IReadOnlyList<(string Name, MlpParameters Parameters)>? configurations,
        IReadOnlyList<(string Name, ViewEnsembleParameters Parameters)>? viewModels,
        IReadOnlyList<(string Name, FusedParameters Parameters)>? fused,
        bool skipWhenUnchanged, bool recordSkip, CancellationToken ct)
    {
        var o = options.Value;
        // The database's clock, as for the labels and runs it is compared with (the app may run on another machine).
        var startedAt = await store.NowAsync(ct);
        // Runs are only created under the training lock, which this job holds: one still 'running' belongs to a job whose
        // process stopped (killed, out of memory) before it could record the outcome.
        if (await store.FailInterruptedRunsAsync(ct) is > 0 and var interrupted)
            logger.LogWarning("{Count} run(s) left 'running' by a job that stopped midway were marked failed", interrupted);
        // What the job decides from (labels, sides, which inputs exist, their fingerprint), without holding the inputs: a job
        // that skips reads no document's inputs into memory, and one that trains loads only those it fits and scores.
        var manifest = await loader.ManifestAsync(ct);
        // In document-id order, as cross-validation's folds depend on the order (the same folds as the crossvalidate command).
        var all = manifest.Documents;
        var classes = all.Select(p => p.Label).Distinct().Count();
        if (all.Count < Math.Max(2, o.MinDocuments) || classes < 2)
        {
            var why = $"{all.Count} labelled document(s) of {classes} class(es) embedded with {encoder.Id}: a model needs documents of at least " +
                $"two classes (Training:MinDocuments is {o.MinDocuments})";
            logger.LogWarning("Training skipped: {Reason}", why);
            return new TrainingReport([], null, why);
        }

        var settings = new TrainingSettings(epochs ?? o.Epochs, o.BatchSize, o.Patience, o.Seed, o.UseCuda, o.Threads);
        var lastRunId = (await store.RunsAsync(1, ct)).FirstOrDefault()?.Id ?? 0;
        var explicitPlan = configurations is not null || viewModels is not null || fused is not null;
        var regionsReady = all.All(p => p.HasRegions);
        var plan = explicitPlan
            ? Candidates.From(configurations ?? [], viewModels ?? [], fused ?? [], settings)
            : Candidates.Default(o, runs ?? o.RunsPerJob, regionsReady, settings, new RandomSearch(unchecked((int)(o.Seed * 7919L + lastRunId))));

        if (plan.Count == 0)
        {
            // Every configured candidate reads the region features, which some labelled documents lack yet (a first
            // ingestion): nothing is recorded, so the job that comes once the embedding stage has computed them trains.
            var why = explicitPlan ? "no candidate to train was given" : $"nothing to train yet: every candidate of Training:Candidates ({string.Join(", ", o.CandidateNames)}) reads the " +
                $"region features, and {all.Count(p => !p.HasRegions)} of the {all.Count} labelled documents do not have them yet " +
                "(the embedding stage computes them); list a candidate without them (such as fused-tvc) to train meanwhile";
            logger.LogWarning("Training skipped: {Reason}", why);
            return new TrainingReport([], null, why);
        }

        var crossValidate = UseCrossValidation(all, o);
        var dataFingerprint = manifest.Fingerprint;
        // On the stored split the fits and the comparison read a seeded draw of the documents.
        var split = crossValidate ? null : DrawSplit(all, o, settings.Seed);
        var fingerprint = Fingerprint(dataFingerprint, plan, crossValidate, o, settings, testDrawn: split?.TestDrawn ?? false);
        if (skipWhenUnchanged && UnchangedSince(await store.RecentJobsAsync(2, ct), fingerprint) is { } last)
        {
            // Unless the champion cannot serve (its files lost with a models volume, an encoder this version does not
            // have): then the job refits its recipe or promotes a candidate even on unchanged data (KeepAsync).
            if (await ChampionCannotServeAsync(ct) is { } cannotServe)
                logger.LogWarning("Nothing changed since training job {JobId}, but the champion cannot serve ({Reason}): training", last.Id, cannotServe);
            else
            {
                var why = $"nothing changed since training job {last.Id} (same {all.Count} documents and labels, encoders and candidates)";
                if (recordSkip) await store.AddJobAsync(fingerprint, all.Count, triggeredBy, "skipped", startedAt, ct);
                logger.LogInformation("Training skipped: {Reason}", why);
                return new TrainingReport([], null, why);
            }
        }

        IReadOnlyList<LabelledPage>? everyPage = null;
        DataSplit? data = null;
        bool changedMeanwhile;
        if (split is null) (everyPage, changedMeanwhile) = await PagesAsync(all, ct);
        else (data, changedMeanwhile) = await LoadSplitAsync(split, ct);
        if (changedMeanwhile)
        {
            // What this job fits is not quite what the manifest described (a label or a page changed as it read them): its
            // models and record say what they did read, and the next job, which cannot match this one, trains again.
            if (everyPage is not null) dataFingerprint = loader.Fingerprint(everyPage);
            fingerprint = Hash(Fingerprint(dataFingerprint, plan, crossValidate, o, settings, testDrawn: split?.TestDrawn ?? false) + "|changed while read");
        }
        var report = everyPage is not null
            ? await CrossValidatedJobAsync(everyPage, dataFingerprint, plan, !explicitPlan, settings, triggeredBy, ct)
            : await SplitJobAsync(data!, dataFingerprint, plan, !explicitPlan, settings, triggeredBy, ct);
        await store.AddJobAsync(fingerprint, all.Count, triggeredBy, JobOutcome(report), startedAt, ct);
        try
        {
            await registry.PruneRunFilesAsync(o.KeepRunFiles, ct, upTo: lastRunId, keepChampions: o.KeepChampionFiles);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The job's models are trained and recorded: old files left for the next job are no reason to fail it.
            logger.LogWarning(ex, "Old runs' model files could not be removed now (Training:KeepRunFiles); the next job tries again");
        }
        return report;
    }

    /// <summary>
    /// How a job that ran is recorded: failed when every run failed (out of memory, a full disk...) or the champion's own
    /// recipe did; partial when some of its runs failed (a candidate it could not compare, whatever it promoted); else
    /// promoted or trained. A failed or partial job did not train its whole plan, so the next job does not take it for
    /// one that did (<see cref="UnchangedSince"/>).
    /// </summary>
    internal static string JobOutcome(TrainingReport report) =>
        report.Incomplete || (report.Runs.Count > 0 && report.Runs.All(r => r.Run.Status != "succeeded")) ? "failed"
        : report.Runs.Any(r => r.Run.Status != "succeeded") ? "partial"
        : report.Promotion?.Promoted == true ? "promoted"
        : "trained";

    /// <summary>
    /// The job that a job reading <paramref name="fingerprint"/> would repeat, so it skips; null when it trains. It skips
    /// when the newest job that ran (<paramref name="recent"/>, newest first) read the same and trained its whole plan
    /// (trained or promoted). After a failed job it trains again; after a partial one too, but once: two partial jobs in a
    /// row on the same data (a candidate that fails every time) are not repeated every hour.
    /// </summary>
    internal static JobRecord? UnchangedSince(IReadOnlyList<JobRecord> recent, string fingerprint) =>
        recent is [var last, ..] && last.Fingerprint == fingerprint
            && (last.Outcome is "trained" or "promoted"
                || (last.Outcome == "partial" && recent is [_, { Outcome: "partial" } before, ..] && before.Fingerprint == fingerprint))
            ? last : null;

    /// <summary>
    /// The check between the recurring job's runs: trains (as that job does, skipping when nothing changed) once
    /// <see cref="TrainingOptions.RetrainAfterLabels"/> documents, or a tenth of the documents the last job read when that
    /// is more, were given another class (or a first one) since the last job began; otherwise says how many it waits for
    /// and trains nothing. Confirmations of the class a document had count for nothing
    /// (<see cref="TrainingStore.LabelsSinceLastJobAsync"/>). When the labels changed nothing a model trains on yet (their
    /// documents are not embedded), it records no job, so they keep counting.
    /// </summary>
    public async Task<TrainingReport> TrainOnNewLabelsAsync(CancellationToken ct, bool skipWhenBusy = false)
    {
        if (options.Value.RetrainAfterLabels <= 0) return new TrainingReport([], null, "Training:RetrainAfterLabels is 0: training runs on its schedule only");
        var (labels, needed) = await LabelsTowardsTrainingAsync(ct);
        // Labels of one class train nothing: said without loading every labelled document's inputs at each check (no job
        // is recorded then, so the labels would count, and be loaded, again and again).
        if (labels.Classes < 2)
            return new TrainingReport([], null, OneClassReason(labels.Classes));
        if (labels.Added < needed)
            return new TrainingReport([], null, $"{labels.Added} document(s) labelled or given another class since " +
                (labels.JobId is { } id ? $"training job {id}" : "the start") + $"; training starts at {needed}");
        // A skip is not recorded: labels on documents whose embeddings are not stored yet change nothing now, and must
        // still count at the next check, once they do.
        return await TrainAsync(null, null, "new-labels", ct, skipWhenUnchanged: true, recordSkip: false, skipWhenBusy: skipWhenBusy);
    }

    /// <summary>Why nothing trains while the labels name fewer than two classes.</summary>
    public static string OneClassReason(int classes) => (classes == 0 ? "no document is labelled yet" : "every labelled document has the same class") +
        ": a model needs labelled documents of at least two classes, so label a document of another class";

    /// <summary>The documents labelled or given another class since the last job, and how many start the next one
    /// (<see cref="TrainOnNewLabelsAsync"/>).</summary>
    public async Task<(NewLabels Labels, int Needed)> LabelsTowardsTrainingAsync(CancellationToken ct)
    {
        var labels = await store.LabelsSinceLastJobAsync(ct);
        return (labels, Math.Max(options.Value.RetrainAfterLabels, labels.Documents / 10));
    }

    /// <summary>
    /// Cross-validation while some class has, or would have, fewer than <see cref="TrainingOptions.TestSidePerClass"/>
    /// documents on the stored test side: its expected share (<see cref="TrainingOptions.TestFraction"/> of the class),
    /// and the documents really there under their current labels (a correction moves a document between classes, never
    /// between sides, so a class can fall short of its share); never above <see cref="TrainingOptions.CrossValidationMaxDocuments"/>
    /// documents, where the test side is large whatever one class holds.
    /// </summary>
    internal static bool UseCrossValidation(IReadOnlyList<LabelledDocument> all, TrainingOptions o)
    {
        if (o.CrossValidationMaxDocuments > 0 && all.Count > o.CrossValidationMaxDocuments) return false;
        if (all.GroupBy(p => p.Label).Min(g => g.Count()) * o.TestFraction < o.TestSidePerClass) return true;
        var onTest = all.Where(d => d.Side == SplitSides.Test).GroupBy(e => e.Label).ToDictionary(g => g.Key, g => g.Count());
        return all.Select(p => p.Label).Distinct().Any(c => onTest.GetValueOrDefault(c) < o.TestSidePerClass);
    }

    /// <summary>What a job does: the data, the candidates (random ones aside: they are drawn anew each job) and how they are compared.</summary>
    private static string Fingerprint(string data, IReadOnlyList<Candidate> plan, bool crossValidate, TrainingOptions o, TrainingSettings settings,
        bool testDrawn)
    {
        var text = new StringBuilder(data).Append('|').Append(crossValidate).Append('|').Append(o.CvFolds).Append('x').Append(o.CvRepeats)
            .Append('|').Append(o.Seed)
            // The review threshold each run stores, and the rule that promotes: a change must reach the served model.
            .Append("|review ").Append(o.ReviewTargetAccuracy.ToString("R", System.Globalization.CultureInfo.InvariantCulture))
            .Append("|t ").Append(o.PromotionT.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        // The stored split's fits draw at most this many documents per class (cross-validation uses every document).
        if (!crossValidate) text.Append("|cap ").Append(o.MaxTrainingPerClass);
        // And they are compared on a draw of the test side, when it holds more than that.
        if (testDrawn) text.Append("|test draw ").Append(o.MaxTestDocuments);
        // How an MLP candidate trains (its epochs, batches and patience are settings, not part of its parameters), when
        // the plan has one: a `train --epochs 50` does not make the next hourly job retrain the fused candidates.
        if (plan.Any(c => !FusedRecipes.IsFused(c.ParametersJson)))
            text.Append("|mlp ").Append(settings.Epochs).Append('/').Append(settings.BatchSize).Append('/').Append(settings.Patience);
        // The cue words of the cues view, when the plan reads them: new words in a new version reach the served model.
        if (plan.Any(c => Candidates.Reads(c.ParametersJson, ViewKinds.Cues))) text.Append('|').Append(CueLexicon.DefaultFingerprint);
        text.Append('\n');
        foreach (var c in plan.Where(c => !c.Name.StartsWith("random-", StringComparison.Ordinal))) text.Append(c.Name).Append('=').Append(c.ParametersJson).Append('\n');
        return Hash(text.ToString());
    }

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <param name="defaultPlan">the job trains the recommended candidates (not a plan given by the caller): the champion's
    /// recipe is re-run as this version defines its name (<see cref="ChampionRecipeAsync"/>).</param>
    private async Task<TrainingReport> CrossValidatedJobAsync(IReadOnlyList<LabelledPage> all, string dataFingerprint, IReadOnlyList<Candidate> plan,
        bool defaultPlan, TrainingSettings settings, string triggeredBy, CancellationToken ct)
    {
        var o = options.Value;
        var k = RepeatedCrossValidation.FoldsFor(all.Count, o.CvFolds);
        // The champion's recipe runs on the same folds: it is what the candidates must beat, and it is refitted on today's data.
        var championId = await registry.ChampionRunIdAsync(ct);
        var champion = championId is { } id ? await ChampionRecipeAsync(id, settings, defaultPlan, plan, ct) : null;
        // A champion whose recipe reads region features that some documents lack yet (the embedding stage computes them
        // after the vectors) cannot be re-run on these documents: a champion this process serves is kept until they are
        // stored; one it cannot serve (Embedding:RegionSet changed) gives way to the best other candidate.
        string? championWaits = null;
        var missingRegions = all.Count(p => p.Inputs.Regions is null);
        if (champion is not null && missingRegions > 0 && Candidates.ReadsRegions(champion.ParametersJson))
        {
            if (WhyChampionCannotServe(championId!.Value) is null)
                championWaits = $"champion run {championId} kept: its recipe reads region features that {missingRegions} labelled document(s) " +
                    "lack yet (the embedding stage computes them); the candidates are compared with it once they are stored";
            champion = null;
        }
        if (champion is not null && plan.All(c => c.ParametersJson != champion.ParametersJson)) plan = [.. plan, champion];

        // What every model of this job is fitted on, document by document: each succeeded run names it.
        var datasetId = await store.RecordDatasetAsync(dataFingerprint, all, encoder.Id, encoder.Version, loader.RegionsVersion, ct);
        var results = new List<(Candidate Candidate, RunSummary Run, CvOutcome? Cv)>();
        foreach (var candidate in plan)
        {
            ct.ThrowIfCancellationRequested();
            var (run, cv) = await TrainOneAsync(candidate, all, [], null, settings, triggeredBy, dataFingerprint, datasetId, ct,
                () => RepeatedCrossValidation.Run(all, k, o.CvRepeats, settings.Seed, candidate.Recipe, o.ReviewTargetAccuracy, ct));
            results.Add((candidate, run, cv));
        }

        var succeeded = results.Where(r => r.Run.Status == "succeeded" && r.Cv is not null).ToList();
        var best = succeeded.OrderByDescending(r => r.Cv!.Estimate.Accuracy).ThenByDescending(r => r.Cv!.Estimate.MacroF1).ThenBy(r => r.Run.Id).FirstOrDefault();
        PromotionResult? promotion = null;
        var incomplete = false;
        if (best.Run is not null)
        {
            var incumbent = champion is null ? default : succeeded.FirstOrDefault(r => r.Candidate.ParametersJson == champion.ParametersJson);
            // A champion whose recipe this version defines otherwise is stale too: its refit replaces it.
            var championStale = championId is { } cid && (champion?.RedefinedFrom is not null || await store.DataFingerprintAsync(cid, ct) != dataFingerprint);
            string? standIn = null;
            if (championWaits is null && incumbent.Run is not null
                && await StoodInForAsync(incumbent.Candidate.ParametersJson, incumbent.Run, (incumbent.Cv!.Estimate.Accuracy, incumbent.Cv.Estimate.MacroF1),
                    succeeded, r => (r.Candidate.ParametersJson, r.Run, r.Cv!.Estimate.Accuracy, r.Cv.Estimate.MacroF1), championId!.Value, ct) is { } recipe)
            {
                // The champion's recipe stood in for one that reads the region features while documents lacked them; that
                // one now ran on every document and scores better on the same folds, so it takes the champion's place (and
                // what challenges it, the stand-in's refit included, must beat it by more than the noise).
                standIn = StandInReason(recipe.Run, incumbent.Run, recipe.Cv!.Estimate.Accuracy, incumbent.Cv.Estimate.Accuracy, "folds");
                incumbent = recipe;
                championStale = true;
            }
            if (championWaits is not null)
                promotion = new PromotionResult(false, championId, championWaits);
            else if (champion is not null && incumbent.Run is null)
            {
                // The champion's recipe was run and failed (out of memory, a full disk): no candidate was compared with it.
                var failed = results.First(r => r.Candidate.ParametersJson == champion.ParametersJson).Run;
                if (WhyChampionCannotServe(championId!.Value) is { } cannotServe && registry.TryArtifact(best.Run.Id).Model is not null)
                {
                    // Kept, a champion that cannot serve leaves the zero-shot model answering, at every job while its recipe
                    // keeps failing (nothing changed, so the next job trains the same plan): the best candidate serves instead.
                    var estimate = best.Cv!.Estimate;
                    promotion = await registry.RecordAsync(best.Run.Id, championId, PromotionKinds.Automatic,
                        $"challenger wins: the champion cannot serve here ({cannotServe}) and this job's run of its recipe (run {failed.Id}) failed; " +
                        $"run {best.Run.Id} ({best.Run.Name}) {estimate.Accuracy:P1} ± {estimate.AccuracySd:P1} per fold, macro-F1 {estimate.MacroF1:F3}, " +
                        $"{estimate.Folds}-fold x {estimate.Repeats} on {estimate.Documents} documents", triggeredBy, ct);
                }
                else
                {
                    promotion = new PromotionResult(false, championId,
                        $"champion run {championId} kept: this job's run of its recipe (run {failed.Id}) failed, so no candidate could be " +
                        "compared with it on the same folds; the next job tries again");
                    incomplete = true;
                }
            }
            else
                promotion = await ChallengeByFoldsAsync(best, incumbent, championId, championStale, k, triggeredBy, ct,
                    challengers: succeeded.Count(r => incumbent.Run is null || r.Run.Id != incumbent.Run.Id), redefinedFrom: champion?.RedefinedFrom,
                    standIn: standIn);
        }
        return new TrainingReport(results.Select(r => new RunOutcome(r.Run, r.Run.Id == best.Run?.Id)).ToList(), promotion, null)
        {
            Evaluation = "cross-validation",
            Incomplete = incomplete,
        };
    }

    private async Task<TrainingReport> SplitJobAsync(DataSplit data, string dataFingerprint, IReadOnlyList<Candidate> plan, bool defaultPlan, TrainingSettings settings, string triggeredBy,
        CancellationToken ct)
    {
        var train = data.PagesOf(data.Train);
        var validation = data.PagesOf(data.Validation);
        var test = data.PagesOf(data.Test);
        // What these fits learn from: a champion fitted on other documents is refitted when nothing beats it (ChallengeAsync).
        var fitFingerprint = loader.Fingerprint([.. train, .. validation]);
        // The champion's recipe is refitted by this job whatever the plan holds (a random-search MLP, a recipe of an
        // earlier plan, a run promoted by hand), so that new labels can reach the served model; not while some documents
        // lack the region features it reads (still being computed).
        var championId = await registry.ChampionRunIdAsync(ct);
        var championRecipe = championId is { } id ? await ChampionRecipeAsync(id, settings, defaultPlan, plan, ct) : null;
        if (championRecipe is not null && plan.All(c => c.ParametersJson != championRecipe.ParametersJson)
            && !(Candidates.ReadsRegions(championRecipe.ParametersJson) && train.Concat(validation).Concat(test).Any(p => p.Inputs.Regions is null)))
            plan = [.. plan, championRecipe];
        var datasetId = await store.RecordDatasetAsync(fitFingerprint, [.. train, .. validation], encoder.Id, encoder.Version, loader.RegionsVersion, ct);
        var outcomes = new List<(Candidate Candidate, RunSummary Run)>();
        foreach (var candidate in plan)
        {
            ct.ThrowIfCancellationRequested();
            var run = (await TrainOneAsync(candidate, train, validation, test, settings, triggeredBy, null, datasetId, ct, null)).Run;
            if (run.Status == "succeeded") await store.SetDataFingerprintAsync(run.Id, fitFingerprint, ct);
            outcomes.Add((candidate, run));
        }
        var best = outcomes.Select(o => o.Run).Where(r => r.Status == "succeeded")
            .OrderByDescending(r => r.TestAccuracy).ThenByDescending(r => r.TestMacroF1).ThenBy(r => r.Id).FirstOrDefault();
        // The run of this job that refits the champion's recipe.
        var refit = championRecipe is null ? null
            : outcomes.FirstOrDefault(o => o.Run.Status == "succeeded" && o.Candidate.ParametersJson == championRecipe.ParametersJson).Run;
        var challengers = outcomes.Count(o => o.Run.Status == "succeeded" && o.Run.Id != refit?.Id);
        // The champion's recipe stood in for the best run, which reads the region features that documents lacked then, and
        // which scores better than its refit on the same test side: it takes the champion's place (see the cross-validated job).
        if (best is not null && refit is not null && championRecipe is not null
            && await StoodInForAsync(championRecipe.ParametersJson, refit, (refit.TestAccuracy ?? 0, refit.TestMacroF1 ?? 0),
                outcomes.Where(o => o.Run.Status == "succeeded"), o => (o.Candidate.ParametersJson, o.Run, o.Run.TestAccuracy ?? 0, o.Run.TestMacroF1 ?? 0),
                championId!.Value, ct) is { } recipe && recipe.Run.Id == best.Id && registry.TryArtifact(best.Id).Model is not null)
        {
            var reason = StandInReason(best, refit, best.TestAccuracy ?? 0, refit.TestAccuracy ?? 0, $"{data.Test.Count} test documents") + $" (run {best.Id})";
            return new TrainingReport(outcomes.Select(o => new RunOutcome(o.Run, o.Run.Id == best.Id)).ToList(),
                await registry.RecordAsync(best.Id, championId, PromotionKinds.Automatic, reason, triggeredBy, ct), null);
        }
        var promotion = best is null ? null : await ChallengeAsync(best, data, triggeredBy, ct, refit, fitFingerprint, challengers,
            redefinedFrom: championRecipe?.RedefinedFrom, allFingerprint: dataFingerprint, plannedAgainst: new PlannedChampion(championId));
        return new TrainingReport(outcomes.Select(o => new RunOutcome(o.Run, o.Run.Id == best?.Id)).ToList(), promotion, null);
    }

    /// <summary>
    /// Trains one candidate and records it. With <paramref name="crossValidate"/>: the estimate comes from the
    /// repeated k-fold (pooled out-of-fold predictions for the per-class metrics and confusion matrix) and the model is
    /// fitted on <paramref name="train"/> (every labelled document); otherwise it is scored on <paramref name="test"/>.
    /// </summary>
    private async Task<(RunSummary Run, CvOutcome? Cv)> TrainOneAsync(Candidate candidate, IReadOnlyList<LabelledPage> train,
        IReadOnlyList<LabelledPage> validation, IReadOnlyList<LabelledPage>? test, TrainingSettings settings, string triggeredBy, string? dataFingerprint,
        long datasetId, CancellationToken ct, Func<CvOutcome>? crossValidate)
    {
        var watch = Stopwatch.StartNew();
        var runId = await store.CreateRunAsync(new NewRun(candidate.Name, candidate.ParametersJson, encoder.Id, encoder.Version, encoder.Dimensions,
            settings.Seed, settings.UseCuda && TorchSharp.torch.cuda.is_available() ? "cuda" : "cpu", train.Count, validation.Count,
            test?.Count ?? train.Count, triggeredBy), ct);
        CvOutcome? cv = null;
        try
        {
            cv = crossValidate?.Invoke();
            var metadata = new Dictionary<string, string>
            {
                ["dsdc.run_id"] = runId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["dsdc.encoder"] = $"{encoder.Id}@{encoder.Version}",
            };
            var trained = candidate.Fit(train, validation, test?.Select(t => t.Inputs).ToList() ?? [], metadata, ct);
            for (var i = 0; i < trained.Epochs.Count; i++) await store.AddEpochAsync(runId, trained.Epochs[i] with { Epoch = i + 1 }, ct);

            ClassificationMetrics scored;
            double loss;
            IReadOnlyList<CoveragePoint>? testCoverage = null;
            double? testThreshold = null;
            if (cv is not null)
            {
                scored = ClassificationMetrics.Compute(cv.Predictions.Select(p => p.Truth).ToList(), cv.Predictions.Select(p => p.Predicted).ToList());
                // The pooled matrix counts each document once per repeat; the headline figures are the repeats' mean.
                scored = scored with { Accuracy = cv.Estimate.Accuracy, MacroF1 = cv.Estimate.MacroF1 };
                loss = cv.Estimate.LogLoss;
            }
            else
            {
                var probabilities = trained.TestProbabilities;
                scored = ClassificationMetrics.Compute(test!.Select(t => t.Label).ToList(), probabilities.Select(p => ClassificationMetrics.ArgMax(p)).ToList());
                loss = test!.Select((t, i) => -Math.Log(Math.Max(probabilities[i][t.Label], 1e-12))).DefaultIfEmpty(double.NaN).Average();
                // The accuracy-coverage curve and the review threshold from the test side, which the model never saw.
                var held = test!.Select((t, i) => new OutOfFold(t.Label, probabilities[i])).ToList();
                if (held.Count > 0)
                {
                    testCoverage = Calibration.Curve(held);
                    testThreshold = Calibration.ReviewThreshold(held, options.Value.ReviewTargetAccuracy);
                }
            }
            var scores = new ModelScores(scored.Accuracy, scored.MacroF1, scored.Count, scored.PerClass, scored.Confusion)
            {
                Estimate = cv?.Estimate,
                TestCoverage = testCoverage,
                TestReviewThreshold = testThreshold,
                TargetAccuracy = options.Value.ReviewTargetAccuracy,
            };
            var manifest = new ModelManifest(runId, candidate.Name, DocumentClasses.Names, encoder.Id, encoder.Version, encoder.Dimensions,
                OnnxExport.InputName, OnnxExport.OutputName, JsonSerializer.Deserialize<JsonElement>(candidate.ParametersJson), scores, DateTime.UtcNow,
                trained.Views)
            {
                KnownClasses = trained.KnownClasses,
                ReviewThreshold = cv?.Estimate.ReviewThreshold ?? testThreshold,
                Calibration = trained.Calibration,
            };
            var artifact = ModelArtifacts.Write(paths.ModelsDir, runId, trained.MainOnnx, manifest, trained.Extra);
            if (cv is not null) await store.SetEstimateAsync(runId, cv.Estimate, dataFingerprint ?? "", ct);
            // The documents the model was fitted on (train and validation: what the fit read), named before the run succeeds.
            await store.SetDatasetAsync(runId, datasetId, ct);
            await store.CompleteRunAsync(runId, trained.Epochs.Count, trained.BestEpoch, loss, scored, artifact,
                JsonSerializer.Serialize(scores, ModelManifest.Json), watch.ElapsedMilliseconds, ct);
            LogRun(runId, candidate.Name, scored.Accuracy, cv?.Estimate.AccuracySd ?? 0, scored.MacroF1, cv is null ? "test side" : "cross-validation",
                watch.ElapsedMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One bad candidate fails its run, not the job: the others still train and compete.
            logger.LogError(ex, "Run {RunId} ({Name}) failed", runId, candidate.Name);
            await store.FailRunAsync(runId, ex.Message, watch.ElapsedMilliseconds, CancellationToken.None);
            cv = null;
        }
        catch (OperationCanceledException)
        {
            await store.FailRunAsync(runId, "cancelled", watch.ElapsedMilliseconds, CancellationToken.None);
            throw;
        }
        return ((await store.RunAsync(runId, ct))!, cv);
    }

    /// <summary>
    /// At most <paramref name="perClass"/> documents of each class (0: all), the same ones from job to job while the
    /// documents stay the same: each class's documents in an order drawn from <paramref name="seed"/> and their ids.
    /// </summary>
    internal static IReadOnlyList<LabelledDocument> AtMostPerClass(IReadOnlyList<LabelledDocument> documents, int perClass, int seed)
    {
        if (perClass <= 0 || documents.GroupBy(p => p.Label).All(g => g.Count() <= perClass)) return documents;
        return DrawInEachClass(documents, seed, _ => perClass);
    }

    /// <summary>
    /// At most about <paramref name="max"/> documents (0: all), each class keeping its share: a seeded draw in each class,
    /// the same documents from job to job while they stay the same (at least one of each class).
    /// </summary>
    internal static IReadOnlyList<LabelledDocument> InProportion(IReadOnlyList<LabelledDocument> documents, int max, int seed)
    {
        if (max <= 0 || documents.Count <= max) return documents;
        var share = (double)max / documents.Count;
        return DrawInEachClass(documents, seed, count => Math.Max(1, (int)Math.Round(count * share)));
    }

    /// <summary>The first <paramref name="take"/>(class size) documents of each class in an order drawn from
    /// <paramref name="seed"/> and their ids, in document-id order.</summary>
    private static List<LabelledDocument> DrawInEachClass(IReadOnlyList<LabelledDocument> documents, int seed, Func<int, int> take) =>
        documents.GroupBy(p => p.Label)
            .SelectMany(g => g.OrderBy(p => Hash($"{seed}:{p.DocumentId}"), StringComparer.Ordinal).Take(take(g.Count())))
            .OrderBy(p => p.DocumentId, StringComparer.Ordinal)
            .ToList();

    /// <summary>The documents a job on the stored split reads: the train and validation sides capped together at
    /// <see cref="TrainingOptions.MaxTrainingPerClass"/> per class (a fused model fits on both; each keeps its own
    /// documents), the test side drawn down to <see cref="TrainingOptions.MaxTestDocuments"/> in proportion.</summary>
    internal sealed record SplitDraw(IReadOnlyList<LabelledDocument> Fitted, int FittedStored, IReadOnlyList<LabelledDocument> Test, int TestStored)
    {
        public bool TestDrawn => Test.Count < TestStored;
    }

    internal static SplitDraw DrawSplit(IReadOnlyList<LabelledDocument> all, TrainingOptions o, int seed)
    {
        var fitted = all.Where(d => d.Side is SplitSides.Train or SplitSides.Validation).ToList();
        var test = all.Where(d => d.Side == SplitSides.Test).ToList();
        return new SplitDraw(AtMostPerClass(fitted, o.MaxTrainingPerClass, seed), fitted.Count, InProportion(test, o.MaxTestDocuments, seed), test.Count);
    }

    /// <summary>The inputs of the drawn documents, on their sides of the split, and whether some changed meanwhile.</summary>
    private async Task<(DataSplit Data, bool ChangedMeanwhile)> LoadSplitAsync(SplitDraw draw, CancellationToken ct)
    {
        var o = options.Value;
        if (draw.Fitted.Count < draw.FittedStored) LogCapped(draw.Fitted.Count, draw.FittedStored, o.MaxTrainingPerClass);
        if (draw.TestDrawn) LogTestDrawn(draw.Test.Count, draw.TestStored, o.MaxTestDocuments);
        IReadOnlyList<LabelledDocument> drawn = [.. draw.Fitted, .. draw.Test];
        var (read, changed) = await PagesAsync(drawn, ct);
        var pages = read.ToDictionary(p => p.DocumentId, p => p.Inputs, StringComparer.Ordinal);
        return (DataSplit.Of(drawn, pages), changed);
    }

    /// <summary>The inputs of these documents (<see cref="TrainingDataLoader.PagesAsync"/>), and whether some changed since the
    /// manifest was read: a document left out (another label or vector), or whose region features appeared or went.</summary>
    private async Task<(IReadOnlyList<LabelledPage> Pages, bool ChangedMeanwhile)> PagesAsync(IReadOnlyList<LabelledDocument> documents, CancellationToken ct)
    {
        var pages = await loader.PagesAsync(documents, ct);
        var hadRegions = documents.ToDictionary(d => d.DocumentId, d => d.HasRegions, StringComparer.Ordinal);
        var changed = documents.Count - pages.Count + pages.Count(p => (p.Inputs.Regions is not null) != hadRegions[p.DocumentId]);
        if (changed > 0) LogChangedMeanwhile(changed);
        return (pages, changed > 0);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Comparing the models on {Used} of the {Stored} documents of the stored test side, each class in its share (Training:MaxTestDocuments is {Max})")]
    private partial void LogTestDrawn(int used, int stored, int max);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Count} labelled document(s) changed (label, vector or region features) while the job read them: it fits what it read, and the next job trains again")]
    private partial void LogChangedMeanwhile(int count);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Training on {Used} of the {Stored} documents of the stored train and validation sides: at most {PerClass} per class (Training:MaxTrainingPerClass)")]
    private partial void LogCapped(int used, int stored, int perClass);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Run {RunId} ({Name}): accuracy {Accuracy:P1} (fold sd {Sd:P1}), macro-F1 {MacroF1:F3} by {Evaluation} in {ElapsedMs} ms")]
    private partial void LogRun(long runId, string name, double accuracy, double sd, double macroF1, string evaluation, long elapsedMs);
}

using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Dsdc.Training;

public sealed partial class TrainingService
{
    /// <summary>How the reason of every promotion of the champion's refitted recipe begins (<see cref="ChosenByAPersonAsync"/> reads it back).</summary>
    private const string RefitReason = "champion's recipe refitted";

    /// <summary>" as this version defines it (now, was then)" for a recipe this version redefined; empty otherwise.</summary>
    private static string AsNowDefined(string recipeJson, string? redefinedFrom) =>
        redefinedFrom is null ? "" : $" as this version defines it ({recipeJson}, was {redefinedFrom})";

    /// <summary>
    /// The champion's recipe, to re-run on today's folds and data; null when it cannot be re-run here (another encoder, an
    /// unknown approach). With <paramref name="asNowDefined"/> (a job of the default plan), a champion that a job promoted
    /// (not a person: a manual promotion or a rollback is kept to) and that was trained with a fused recipe of a name this
    /// version defines otherwise (an upgrade changed the recipe, as when its text view came to read every OCR reading) is
    /// re-run as the name is now defined (<see cref="Candidate.RedefinedFrom"/>): the default plan trains what this
    /// version recommends, and the champion's recipe with it, so that an upgrade reaches the served model without
    /// waiting for a win by more than the noise. A recipe whose place a successor took (<see cref="FusedRecipes.Successors"/>)
    /// is re-run as its successor when the job's <paramref name="plan"/> holds the successor and not the recipe itself.
    /// </summary>
    private async Task<Candidate?> ChampionRecipeAsync(long championId, TrainingSettings settings, bool asNowDefined, IReadOnlyList<Candidate> plan,
        CancellationToken ct)
    {
        var run = await store.RunAsync(championId, ct);
        if (run is null || run.Encoder != encoder.Id || run.EncoderVersion != encoder.Version) return null;
        try
        {
            const string suffix = " (champion's recipe)";
            var name = run.Name.EndsWith(suffix, StringComparison.Ordinal) ? run.Name[..^suffix.Length] : run.Name;
            var recorded = Candidates.FromRun(name + suffix, run.Parameters, settings);
            // A plan that names the recipe itself beside its successor (Training:Candidates) keeps it as it is.
            bool Planned(string recipe) => plan.Any(c => c.Name == recipe);
            var now = FusedRecipes.Successors.TryGetValue(name, out var successor) && Planned(successor) && !Planned(name)
                ? successor : name;
            if (asNowDefined && recorded is not null && FusedRecipes.All.TryGetValue(now, out var current)
                && FusedRecipes.IsFused(run.Parameters) && recorded.ParametersJson != current.ToJson())
            {
                if (await ChosenByAPersonAsync(championId, recorded.ParametersJson, ct) is { } how)
                {
                    logger.LogInformation("The champion's recipe {Recipe} (run {RunId}) is re-run as recorded, not as this version defines it: " +
                        "a person chose it ({Kind})", name, championId, how);
                    return recorded;
                }
                logger.LogInformation("The champion's recipe {Recipe} (run {RunId}) is re-run as this version defines {Name}: {Now} instead of {Then}",
                    name, championId, now, current.ToJson(), recorded.ParametersJson);
                return Candidates.Fused(name + suffix, current) with { RedefinedFrom = recorded.ParametersJson };
            }
            return recorded;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NotSupportedException or ArgumentException)
        {
            logger.LogWarning("The champion's recipe (run {RunId}) cannot be re-run: {Reason}", championId, ex.Message);
            return null;
        }
    }

    /// <summary>
    /// How a person chose the champion's recipe (<see cref="PromotionKinds.Manual"/> or <see cref="PromotionKinds.Rollback"/>),
    /// or null when a job did: the promotion history read back from its end through the refits of the same recipe that
    /// jobs promoted since (a chosen recipe stays chosen when new labels refit it), to the promotion that brought it in.
    /// Null too when the champion changed while the history was read.
    /// </summary>
    private async Task<string?> ChosenByAPersonAsync(long championId, string recipeJson, CancellationToken ct) =>
        await RecipeOriginAsync(championId, recipeJson, ct) is { Kind: PromotionKinds.Manual or PromotionKinds.Rollback } p ? p.Kind : null;

    /// <summary>
    /// The promotion that brought the champion's recipe in: the promotion history read back from its end through the
    /// refits of the same recipe that jobs promoted since, to the first that is a person's (a manual promotion or a
    /// rollback) or not such a refit. Null when a promotion on the way is of another recipe, or the champion changed while
    /// the history was read.
    /// </summary>
    private async Task<Promotion?> RecipeOriginAsync(long championId, string recipeJson, CancellationToken ct)
    {
        var history = await store.PromotionsAsync(ct);
        if (ChampionHistory.Champion(history) != championId) return null;
        for (var i = history.Count - 1; i >= 0; i--)
        {
            var p = history[i];
            if (await store.RunAsync(p.RunId, ct) is not { } run || !FusedRecipes.IsFused(run.Parameters)
                || System.Text.Json.JsonSerializer.Deserialize<FusedParameters>(run.Parameters)!.ToJson() != recipeJson)
                return null;
            if (p.Kind is PromotionKinds.Manual or PromotionKinds.Rollback || !p.Reason.StartsWith(RefitReason, StringComparison.Ordinal)) return p;
        }
        return null;
    }

    /// <summary>
    /// The candidate of this job that the champion's recipe (<paramref name="incumbent"/>) stood in for, when it should take
    /// the champion's place: the champion's recipe is that candidate without its region features
    /// (<see cref="FusedRecipes.IsStandIn"/>), the candidate succeeded on the same folds or test side with a better accuracy
    /// (macro-F1 on a tie), and the champion's recipe came in without region features (<see cref="CameInWithoutRegionsAsync"/>).
    /// Such a stand-in was trained because the region features were missing, not because it won; without this, its
    /// incumbency would keep the recipe it stood in for out for good, since a challenger must win by more than the noise.
    /// A stand-in that won against that recipe, or that a person chose, is not concerned. Null otherwise.
    /// </summary>
    private async Task<T?> StoodInForAsync<T>(string incumbentJson, RunSummary incumbent, (double Accuracy, double MacroF1) score,
        IEnumerable<T> succeeded, Func<T, (string Json, RunSummary Run, double Accuracy, double MacroF1)> read, long championId, CancellationToken ct)
        where T : struct
    {
        var better = succeeded.Select(r => (Item: r, Of: read(r)))
            .Where(r => r.Of.Run.Id != incumbent.Id && FusedRecipes.IsStandIn(incumbentJson, r.Of.Json))
            .Where(r => Higher((r.Of.Accuracy, r.Of.MacroF1), score))
            .OrderByDescending(r => r.Of.Accuracy).ThenByDescending(r => r.Of.MacroF1).ThenBy(r => r.Of.Run.Id)
            .ToList();
        if (better.Count == 0 || !await CameInWithoutRegionsAsync(championId, incumbentJson, ct)) return null;
        return better[0].Item;
    }

    /// <summary>
    /// Whether the champion's recipe came in while documents lacked their region features: the promotion history read back
    /// from its end through the refits of the same recipe that jobs promoted since, to the promotion that brought the
    /// recipe in, was made by a job (not a person: a manual promotion or a rollback) and promoted a run fitted while some
    /// of its documents lacked them (its recorded training set says so; a run of a version that recorded none does not
    /// count). False too when the champion changed while the history was read.
    /// </summary>
    private async Task<bool> CameInWithoutRegionsAsync(long championId, string recipeJson, CancellationToken ct) =>
        await RecipeOriginAsync(championId, recipeJson, ct) is { Kind: not (PromotionKinds.Manual or PromotionKinds.Rollback) } p
        && await store.FittedWithoutRegionsAsync(p.RunId, ct);

    /// <summary>The first words of the reason of a promotion by <see cref="StoodInForAsync"/>.</summary>
    private static string StandInReason(RunSummary recipe, RunSummary standIn, double recipeAccuracy, double standInAccuracy, string where) =>
        $"{recipe.Name} replaces the champion's recipe {standIn.Name}, which stood in for it without the region features while documents " +
        $"lacked them: {recipeAccuracy:P1} against {standInAccuracy:P1} on the same {where}";

    /// <summary>Why this process cannot serve the champion (<see cref="ModelManifest.WhyNotServable"/>); its artifact unreadable counts too.</summary>
    private string? WhyChampionCannotServe(long championId) => ReadChampion(championId).Why;

    /// <summary>Why the promoted champion cannot serve (null when it can, or when none is promoted).</summary>
    private async Task<string?> ChampionCannotServeAsync(CancellationToken ct) =>
        await registry.ChampionRunIdAsync(ct) is { } championId ? WhyChampionCannotServe(championId) : null;

    /// <summary>The champion's artifact, read once, and why this process cannot serve it (null when it can).</summary>
    private (ChampionModel? Champion, string? Why) ReadChampion(long championId) => registry.TryServable(championId, encoder, loader.RegionSet) switch
    {
        ({ } champion, var why) => (champion, why),
        (_, var why) => (null, $"run {championId}'s artifact cannot be read: {why}"),
    };

    /// <summary>
    /// The rule under cross-validation (docs/training.md): the best candidate by mean accuracy replaces the champion only
    /// if, on the same folds, its per-fold accuracies beat those of the champion's recipe by more than the noise (the
    /// paired corrected resampled t statistic above <see cref="TrainingOptions.PromotionT"/>). Otherwise the champion's
    /// recipe stays, refitted on today's documents when they differ from those the champion was fitted on (the run of
    /// it in this job is promoted). Without a champion, or when the champion's recipe cannot be re-run, the best
    /// candidate is promoted.
    /// </summary>
    private async Task<PromotionResult> ChallengeByFoldsAsync((Candidate Candidate, RunSummary Run, CvOutcome? Cv) best,
        (Candidate Candidate, RunSummary Run, CvOutcome? Cv) incumbent, long? championId, bool championStale, int k, string by, CancellationToken ct,
        int challengers = 1, string? redefinedFrom = null, string? standIn = null)
    {
        var mine = best.Cv!.Estimate;
        var summary = $"run {best.Run.Id} ({best.Run.Name}) {mine.Accuracy:P1} ± {mine.AccuracySd:P1} per fold, macro-F1 {mine.MacroF1:F3}, " +
            $"{mine.Folds}-fold x {mine.Repeats} on {mine.Documents} documents";
        if (championId is null)
            return await registry.RecordAsync(best.Run.Id, null, PromotionKinds.Automatic, $"first champion: {summary}", by, ct);
        if (incumbent.Run is null)
            return await registry.RecordAsync(best.Run.Id, championId, PromotionKinds.Automatic,
                $"challenger wins: {summary}; the champion (run {championId}) cannot be re-run on these documents", by, ct);

        var theirs = incumbent.Cv!.Estimate;
        async Task<PromotionResult> KeepAsync(string why)
        {
            // A champion whose files are gone (a lost models volume) gives way to its recipe's refit even on unchanged data.
            var cannotServe = championStale ? null : WhyChampionCannotServe(championId.Value);
            if (!championStale && cannotServe is null)
            {
                logger.LogInformation("Champion kept: {Why}", why);
                return new PromotionResult(false, championId, $"champion run {championId} kept: {why}");
            }
            return await registry.RecordAsync(incumbent.Run.Id, championId, PromotionKinds.Automatic,
                (standIn is not null ? $"{standIn} (run {incumbent.Run.Id})"
                    : cannotServe is not null ? $"{RefitReason} because the champion cannot serve ({cannotServe}) (run {incumbent.Run.Id})"
                    : $"{RefitReason} on today's documents{AsNowDefined(incumbent.Candidate.ParametersJson, redefinedFrom)} (run {incumbent.Run.Id})") +
                $": {why}", by, ct);
        }
        if (incumbent.Run.Id == best.Run.Id) return await KeepAsync($"its recipe is still the best: {summary}");
        var (difference, t, wins) = RepeatedCrossValidation.Compare(mine.FoldAccuracies, theirs.FoldAccuracies, k, options.Value.PromotionT, challengers);
        var comparison = $"{summary} vs {(standIn is null ? "the champion's recipe" : incumbent.Run.Name)} {theirs.Accuracy:P1} on the same folds: mean paired difference {difference:+0.0%;-0.0%}, " +
            $"corrected t {t:F2} (threshold {RepeatedCrossValidation.PromotionThreshold(mine.FoldAccuracies.Count, options.Value.PromotionT, challengers):F2}" +
            BestOf(challengers) + ")";
        if (wins)
            return await registry.RecordAsync(best.Run.Id, championId, PromotionKinds.Automatic, "challenger wins: " + comparison, by, ct);
        return await KeepAsync($"the challenger is not better by more than the noise: {comparison}");
    }

    /// <summary>
    /// The rule on the stored split (docs/training.md): the challenger replaces the champion only if, on the test side
    /// stored today (the champion is re-scored there, since the side grows as documents arrive), it is right where the
    /// champion is wrong on more documents than the other way round by more than the noise (<see cref="PairedDocuments"/>,
    /// McNemar's test). Otherwise, when this job refitted the champion's recipe (<paramref name="refit"/>) on other
    /// documents than the champion's, or with its recipe as this version defines it (<paramref name="redefinedFrom"/>: the
    /// recorded recipe), and that refit is not worse by more than the noise, the refit is promoted, so that new labels and
    /// upgrades reach the served model; else the champion stays. A champion selected by cross-validation trained on those
    /// test documents too: its cross-validated estimate is what the challenger must beat, and when its recipe was
    /// redefined, or the labelled documents changed since it was fitted (<paramref name="allFingerprint"/>: every labelled
    /// document of today), it gives way to the refit (its files read back) unless a challenger scores above that estimate,
    /// or, for new labels, the refit scores below it by more than the noise.
    /// </summary>
    /// <param name="plannedAgainst">The champion when the job planned its candidates (the recipe it refits is that
    /// champion's): when a person promoted or rolled back another run while the job trained, nothing is promoted, so
    /// that the job never undoes their choice with a comparison made for another champion; the next job compares with it.</param>
    internal async Task<PromotionResult> ChallengeAsync(RunSummary challenger, DataSplit data, string by, CancellationToken ct,
        RunSummary? refit = null, string? fitFingerprint = null, int challengers = 1, string? redefinedFrom = null, string? allFingerprint = null,
        PlannedChampion? plannedAgainst = null)
    {
        var test = data.Test;
        var championId = await registry.ChampionRunIdAsync(ct);
        if (plannedAgainst is { RunId: var planned } && planned != championId)
            return Kept($"the champion changed while this job trained (from {RunName(planned)} to {RunName(championId)}, a promotion or a " +
                "rollback made meanwhile): the job promotes nothing over it, and the next job compares its candidates with it");
        var mine = (challenger.TestAccuracy ?? 0, challenger.TestMacroF1 ?? 0);
        if (championId is null)
            return await registry.RecordAsync(challenger.Id, null, PromotionKinds.Automatic,
                $"first champion: test accuracy {mine.Item1:P2}, macro-F1 {mine.Item2:F4} on {test.Count} documents", by, ct);

        // A champion this process cannot serve (another encoder, other region features) is replaced whatever it scored.
        var (champion, why) = ReadChampion(championId.Value);
        if (why is not null)
            return await registry.RecordAsync(challenger.Id, championId, PromotionKinds.Automatic,
                $"challenger wins: the champion cannot serve here ({why}); run {challenger.Id} test accuracy {mine.Item1:P2}, " +
                $"macro-F1 {mine.Item2:F4} on {test.Count} documents", by, ct);
        // A champion selected by cross-validation was fitted on every labelled document of its day, today's test side
        // included: scored there it would show its training accuracy, and no challenger would ever beat it. Its own
        // cross-validated estimate, from documents each fold's model never saw, stands for it instead.
        var championRun = await store.RunAsync(championId.Value, ct);
        if (championRun?.Evaluation == "cross-validation")
        {
            var estimate = (Accuracy: championRun.TestAccuracy ?? 0, MacroF1: championRun.TestMacroF1 ?? 0);
            var comparison = $"run {challenger.Id} {mine.Item1:P2} / F1 {mine.Item2:F4} on {test.Count} test documents vs champion run {championId}'s " +
                $"cross-validated estimate {estimate.Accuracy:P2} / F1 {estimate.MacroF1:F4} (it was fitted on every labelled document, these included)";
            if (Higher(mine, estimate))
                return await registry.RecordAsync(challenger.Id, championId, PromotionKinds.Automatic, "challenger wins: " + comparison, by, ct);
            if (refit is not null && refit.Id != championId && registry.TryArtifact(refit.Id).Model is not null)
            {
                if (redefinedFrom is not null)
                    return await registry.RecordAsync(refit.Id, championId, PromotionKinds.Automatic,
                        $"{RefitReason} on today's documents{AsNowDefined(refit.Parameters, redefinedFrom)} (run {refit.Id}): no challenger is better: {comparison}", by, ct);
                // The champion learnt the labels of its day. When documents or labels changed since, they reach the served
                // model through the refit of its recipe, unless it scores below the champion's estimate by more than the
                // noise of a score on this many test documents (the estimate's own spread is left out: the refit only has
                // to be no worse). Without this a champion selected by cross-validation would stay, with its old labels,
                // until some challenger beat its estimate, and every job on unchanged data after that would skip.
                if (allFingerprint is not null && await store.DataFingerprintAsync(championId.Value, ct) != allFingerprint)
                {
                    var refitAccuracy = refit.TestAccuracy ?? 0;
                    var z = BelowEstimateZ(refitAccuracy, estimate.Accuracy, test.Count);
                    var noise = PairedDocuments.Threshold(options.Value.PromotionT);
                    var refitScore = $"run {refit.Id} {refitAccuracy:P2} on the {test.Count} test documents, z {z:F2} against the estimate (threshold -{noise:F2})";
                    if (z >= -noise)
                        return await registry.RecordAsync(refit.Id, championId, PromotionKinds.Automatic,
                            $"{RefitReason} on today's documents, whose labels changed since the champion was fitted ({refitScore}): no challenger is better: {comparison}", by, ct);
                    comparison += $"; the refit of its recipe on today's documents scores below the estimate by more than the noise ({refitScore})";
                }
            }
            return Kept(comparison);
        }

        // A challenger whose files cannot be read back could not be served: it is never promoted.
        var (challengerModel, unreadable) = registry.TryArtifact(challenger.Id);
        if (challengerModel is null)
            return Kept($"run {challenger.Id}'s files cannot be read back ({unreadable}), so it cannot replace champion run {championId}");
        var theirs = RightOnTestSide(champion!, data);
        var ours = RightOnTestSide(challengerModel, data);
        if (theirs is null || ours is null)
        {
            // Some test documents lack the region features a model reads (still being computed): the champion's score on
            // today's test side when it can be computed, else its recorded one, is the only comparison left, and the
            // champion stays unless the challenger scored higher.
            var (against, what) = theirs is not null
                ? (Score(theirs.Value, test), "today")
                : ((champion!.Manifest.Metrics.Accuracy, champion.Manifest.Metrics.MacroF1), "recorded");
            var comparison = $"run {challenger.Id} {mine.Item1:P2} / F1 {mine.Item2:F4} vs champion run {championId} {against.Item1:P2} / F1 " +
                $"{against.Item2:F4} ({what}; region features of some of the {test.Count} test documents are still being computed, so no paired test)";
            return Higher(mine, against)
                ? await registry.RecordAsync(challenger.Id, championId, PromotionKinds.Automatic, "challenger wins: " + comparison, by, ct)
                : Kept(comparison);
        }

        var threshold = options.Value.PromotionT;
        var paired = PairedDocuments.Compare(ours.Value.Right, theirs.Value.Right, threshold, challengers);
        var summary = $"run {challenger.Id} {Share(ours.Value.Right)} vs champion run {championId} {Share(theirs.Value.Right)} on the same {test.Count} test documents, {paired}" +
            BestOf(challengers);
        if (paired.ChallengerWins)
            return await registry.RecordAsync(challenger.Id, championId, PromotionKinds.Automatic, "challenger wins: " + summary, by, ct);
        // Not better by more than the noise. New labels still reach the served model through the champion's own recipe,
        // refitted on today's documents, unless that refit is worse by more than the noise.
        if (refit is not null && refit.Id != championId && fitFingerprint is not null
            && (redefinedFrom is not null || await store.DataFingerprintAsync(championId.Value, ct) != fitFingerprint)
            && (refit.Id == challenger.Id ? ours : registry.TryArtifact(refit.Id).Model is { } refitted ? RightOnTestSide(refitted, data) : null) is { Right: var refitRight })
        {
            var vs = PairedDocuments.Compare(refitRight, theirs.Value.Right, threshold);
            if (!vs.ChallengerLoses)
                return await registry.RecordAsync(refit.Id, championId, PromotionKinds.Automatic,
                    $"{RefitReason} on today's documents{AsNowDefined(refit.Parameters, redefinedFrom)} (run {refit.Id}, {Share(refitRight)}, {vs}): " +
                    $"no challenger is better by more than the noise: {summary}", by, ct);
            summary += $"; the refit of its recipe (run {refit.Id}) is worse by more than the noise: {vs}";
        }
        return Kept(summary);

        static string RunName(long? run) => run is { } id ? $"run {id}" : "none";

        PromotionResult Kept(string comparison)
        {
            logger.LogInformation("Champion kept: {Comparison}", comparison);
            return new PromotionResult(false, championId, "champion kept: " + comparison);
        }
    }

    /// <summary>
    /// How far <paramref name="accuracy"/>, measured on <paramref name="n"/> documents, lies from <paramref name="estimate"/>
    /// in binomial standard errors at the estimate (a score at 0 or 1 counts one document's worth of error): negative below.
    /// </summary>
    internal static double BelowEstimateZ(double accuracy, double estimate, int n)
    {
        if (n <= 0) return 0;
        var variance = Math.Max(estimate * (1 - estimate), 1.0 / n) / n;
        return (accuracy - estimate) / Math.Sqrt(variance);
    }

    /// <summary>Accuracy, then macro-F1, higher (the plain comparison where no paired test is possible).</summary>
    private static bool Higher((double Accuracy, double MacroF1) mine, (double Accuracy, double MacroF1) theirs) =>
        mine.Accuracy > theirs.Accuracy + 1e-12 || (Math.Abs(mine.Accuracy - theirs.Accuracy) <= 1e-12 && mine.MacroF1 > theirs.MacroF1 + 1e-12);

    /// <summary>", the best of m challengers" when the default threshold was raised for them.</summary>
    private string BestOf(int challengers) =>
        challengers > 1 && options.Value.PromotionT <= 0 ? $", the best of {challengers} challengers" : "";

    private static string Share(IReadOnlyList<bool> right) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{right.Count(r => r) / (double)Math.Max(1, right.Count):P2}");

    /// <summary>A model's answers on the test side, on the inputs serving would compute for them, and which are right;
    /// null when some documents lack the region features it reads (still being computed).</summary>
    private static (int[] Predicted, bool[] Right)? RightOnTestSide(ChampionModel model, DataSplit data)
    {
        var test = data.Test;
        var pages = data.PagesOf(test).Select(p => p.Inputs).ToList();
        if (model.Manifest.RegionDimensions is { } regions && pages.Any(p => p.Regions?.Length != regions)) return null;
        // Every view of the model, on the same inputs serving would compute for these documents.
        using var runner = new ViewEnsembleRunner(model, OnnxMlpRunner.CpuSession);
        var predicted = runner.Predict(pages).Select(p => ClassificationMetrics.ArgMax(p)).ToArray();
        return (predicted, test.Select((t, i) => predicted[i] == t.Label).ToArray());
    }

    private static (double Accuracy, double MacroF1) Score((int[] Predicted, bool[] Right) answers, IReadOnlyList<LabelledVector> test)
    {
        var metrics = ClassificationMetrics.Compute(test.Select(t => t.Label).ToList(), answers.Predicted);
        return (metrics.Accuracy, metrics.MacroF1);
    }
}

/// <summary>The champion a training job planned its candidates against (null: there was none).</summary>
internal sealed record PlannedChampion(long? RunId);

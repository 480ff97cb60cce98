using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Dsdc.Training;

public sealed partial class TrainingService
{
    /// <summary>The champion's recipe, to re-run on today's folds and data; null when it cannot be re-run here (another encoder, an unknown approach).</summary>
    private async Task<Candidate?> ChampionRecipeAsync(long championId, TrainingSettings settings, CancellationToken ct)
    {
        var run = await store.RunAsync(championId, ct);
        if (run is null || run.Encoder != encoder.Id || run.EncoderVersion != encoder.Version) return null;
        try
        {
            const string suffix = " (champion's recipe)";
            var name = run.Name.EndsWith(suffix, StringComparison.Ordinal) ? run.Name[..^suffix.Length] : run.Name;
            return Candidates.FromRun(name + suffix, run.Parameters, settings);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NotSupportedException or ArgumentException)
        {
            logger.LogWarning("The champion's recipe (run {RunId}) cannot be re-run: {Reason}", championId, ex.Message);
            return null;
        }
    }

    /// <summary>Why this process cannot serve the champion (<see cref="ModelManifest.WhyNotServable"/>); its artifact unreadable counts too.</summary>
    private string? WhyChampionCannotServe(long championId) => ReadChampion(championId).Why;

    /// <summary>The champion's artifact, read once, and why this process cannot serve it (null when it can).</summary>
    private (ChampionModel? Champion, string? Why) ReadChampion(long championId) => registry.TryArtifact(championId) switch
    {
        ({ } champion, _) => (champion, champion.Manifest.WhyNotServable(encoder, loader.RegionSet)),
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
        (Candidate Candidate, RunSummary Run, CvOutcome? Cv) incumbent, long? championId, bool championStale, int k, string by, CancellationToken ct)
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
            if (!championStale)
            {
                logger.LogInformation("Champion kept: {Why}", why);
                return new PromotionResult(false, championId, $"champion run {championId} kept: {why}");
            }
            return await registry.RecordAsync(incumbent.Run.Id, championId, PromotionKinds.Automatic,
                $"champion's recipe refitted on today's documents (run {incumbent.Run.Id}): {why}", by, ct);
        }
        if (incumbent.Run.Id == best.Run.Id) return await KeepAsync($"its recipe is still the best: {summary}");
        var (difference, t, wins) = RepeatedCrossValidation.Compare(mine.FoldAccuracies, theirs.FoldAccuracies, k, options.Value.PromotionT);
        var comparison = $"{summary} vs the champion's recipe {theirs.Accuracy:P1} on the same folds: mean paired difference {difference:+0.0%;-0.0%}, " +
            $"corrected t {t:F2} (threshold {RepeatedCrossValidation.PromotionThreshold(mine.FoldAccuracies.Count, options.Value.PromotionT):F2})";
        if (wins)
            return await registry.RecordAsync(best.Run.Id, championId, PromotionKinds.Automatic, "challenger wins: " + comparison, by, ct);
        return await KeepAsync($"the challenger is not better by more than the noise: {comparison}");
    }

    /// <summary>
    /// The challenger replaces the champion only if it beats it on the test side stored today (accuracy, then macro-F1):
    /// the champion is re-scored on exactly those documents, since the side grows as documents arrive. A champion selected
    /// by cross-validation trained on those documents too: its cross-validated estimate is what the challenger must beat.
    /// </summary>
    internal async Task<PromotionResult> ChallengeAsync(RunSummary challenger, DataSplit data, string by, CancellationToken ct)
    {
        var test = data.Test;
        var championId = await registry.ChampionRunIdAsync(ct);
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
        var fittedOnTestSide = championRun?.Evaluation == "cross-validation";
        var theirs = fittedOnTestSide
            ? (Accuracy: championRun!.TestAccuracy ?? 0, MacroF1: championRun.TestMacroF1 ?? 0)
            : ScoreChampion(champion!, data);
        var wins = mine.Item1 > theirs.Accuracy + 1e-12 || (Math.Abs(mine.Item1 - theirs.Accuracy) <= 1e-12 && mine.Item2 > theirs.MacroF1 + 1e-12);
        var comparison = fittedOnTestSide
            ? $"run {challenger.Id} {mine.Item1:P2} / F1 {mine.Item2:F4} on {test.Count} test documents vs champion run {championId}'s " +
              $"cross-validated estimate {theirs.Accuracy:P2} / F1 {theirs.MacroF1:F4} (it was fitted on every labelled document, these included)"
            : $"run {challenger.Id} {mine.Item1:P2} / F1 {mine.Item2:F4} vs champion run {championId} {theirs.Accuracy:P2} / F1 " +
              $"{theirs.MacroF1:F4} on the same {test.Count} test documents";
        if (!wins)
        {
            logger.LogInformation("Champion kept: {Comparison}", comparison);
            return new PromotionResult(false, championId, "champion kept: " + comparison);
        }
        return await registry.RecordAsync(challenger.Id, championId, PromotionKinds.Automatic, "challenger wins: " + comparison, by, ct);
    }

    private static (double Accuracy, double MacroF1) ScoreChampion(ChampionModel champion, DataSplit data)
    {
        var test = data.Test;
        // A champion that reads region features some of these documents lack yet (still being computed): its recorded
        // scores are the only comparison left.
        var pages = data.PagesOf(test).Select(p => p.Inputs).ToList();
        if (champion.Manifest.RegionDimensions is { } regions && pages.Any(p => p.Regions?.Length != regions))
            return (champion.Manifest.Metrics.Accuracy, champion.Manifest.Metrics.MacroF1);
        // Every view of the champion, on the same inputs serving would compute for these documents.
        using var runner = new ViewEnsembleRunner(champion, OnnxMlpRunner.CpuSession);
        var probabilities = runner.Predict(pages);
        var metrics = ClassificationMetrics.Compute(test.Select(t => t.Label).ToList(), probabilities.Select(p => ClassificationMetrics.ArgMax(p)).ToList());
        return (metrics.Accuracy, metrics.MacroF1);
    }
}

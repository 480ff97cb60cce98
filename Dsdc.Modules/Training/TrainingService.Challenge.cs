using Microsoft.Extensions.Logging;

namespace Dsdc.Training;

public sealed partial class TrainingService
{
    /// <summary>
    /// The challenger replaces the champion only if it beats it on the test side stored today (accuracy, then macro-F1):
    /// the champion is re-scored on exactly those documents, since the side grows as documents arrive.
    /// </summary>
    internal async Task<PromotionResult> ChallengeAsync(RunSummary challenger, DataSplit data, string by, CancellationToken ct)
    {
        var test = data.Test;
        var championId = await registry.ChampionRunIdAsync(ct);
        var mine = (challenger.TestAccuracy ?? 0, challenger.TestMacroF1 ?? 0);
        if (championId is null)
            return await registry.RecordAsync(challenger.Id, null, PromotionKinds.Automatic,
                $"first champion: test accuracy {mine.Item1:P2}, macro-F1 {mine.Item2:F4} on {test.Count} documents", by, ct);

        var theirs = ScoreChampion(championId.Value, data);
        var wins = mine.Item1 > theirs.Accuracy + 1e-12 || (Math.Abs(mine.Item1 - theirs.Accuracy) <= 1e-12 && mine.Item2 > theirs.MacroF1 + 1e-12);
        var comparison = $"run {challenger.Id} {mine.Item1:P2} / F1 {mine.Item2:F4} vs champion run {championId} {theirs.Accuracy:P2} / F1 " +
            $"{theirs.MacroF1:F4} on the same {test.Count} test documents";
        if (!wins)
        {
            logger.LogInformation("Champion kept: {Comparison}", comparison);
            return new PromotionResult(false, championId, "champion kept: " + comparison);
        }
        return await registry.RecordAsync(challenger.Id, championId, PromotionKinds.Automatic, "challenger wins: " + comparison, by, ct);
    }

    private (double Accuracy, double MacroF1) ScoreChampion(long runId, DataSplit data)
    {
        var test = data.Test;
        var champion = registry.Artifact(runId);
        // A champion of another encoder cannot read these vectors: its recorded scores are the only comparison left.
        if (champion.Manifest.Encoder != encoder.Id || champion.Manifest.EncoderVersion != encoder.Version
            || champion.Manifest.Dimensions != test[0].Vector.Length)
            return (champion.Manifest.Metrics.Accuracy, champion.Manifest.Metrics.MacroF1);
        // Every view of the champion, on the same inputs serving would compute for these documents.
        using var runner = new ViewEnsembleRunner(champion, OnnxMlpRunner.CpuSession);
        var probabilities = data.Pages is null
            ? runner.VectorOnly ? test.Select(t => runner.PredictVector(t.Vector)).ToArray() : throw new InvalidOperationException("a multi-view champion needs the pages")
            : runner.Predict(data.PagesOf(test).Select(p => p.Inputs).ToList());
        var metrics = ClassificationMetrics.Compute(test.Select(t => t.Label).ToList(), probabilities.Select(p => ClassificationMetrics.ArgMax(p)).ToList());
        return (metrics.Accuracy, metrics.MacroF1);
    }
}

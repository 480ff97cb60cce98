using System.Globalization;
using Dsdc.Shared.Cli;

namespace Dsdc.Training;

/// <summary><c>train [--runs N] [--epochs N] [--if-changed]</c>: one training job, synchronously, then a table of its runs.</summary>
internal sealed class TrainCommand(TrainingService training) : ICliCommand
{
    public string Name => "train";
    public IReadOnlyList<string> Options => ["--runs N", "--epochs N", "--if-changed"];
    public string Usage => "[--runs N] [--epochs N] [--if-changed]  train the candidate models now (N MLPs besides the fused models); print the runs and the champion";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var report = await training.TrainAsync(cli.Int("--runs", minimum: 0), cli.Int("--epochs"), $"cli:{Environment.UserName}", ct,
            skipWhenUnchanged: cli.Flag("--if-changed"));
        if (report.Skipped is { } why)
        {
            Console.Error.WriteLine($"Nothing trained: {why}.");
            return cli.Flag("--if-changed") && why.StartsWith("nothing changed", StringComparison.Ordinal) ? 0 : 1;
        }
        Console.WriteLine(Table(report));
        Console.WriteLine(report.Promotion?.Message ?? "No run succeeded; the champion is unchanged.");
        return report.Runs.Any(r => r.Run.Status == "succeeded") ? 0 : 1;
    }

    internal static string Table(TrainingReport report)
    {
        var lines = new List<string> { $"{"run",5}  {"name",-10} {"status",-9} {"epochs",6} {"best",4} {"accuracy",8} {"± sd",6} {"macro-F1",8} {"seconds",7}  parameters" };
        foreach (var (run, best) in report.Runs.Select(r => (r.Run, r.BestOfJob)))
        {
            string F(double? v) => v?.ToString("P1", CultureInfo.InvariantCulture) ?? "-";
            lines.Add($"{run.Id,5}  {run.Name,-10} {run.Status,-9} {run.EpochsRun?.ToString(CultureInfo.InvariantCulture) ?? "-",6} " +
                $"{run.BestEpoch?.ToString(CultureInfo.InvariantCulture) ?? "-",4} {F(run.TestAccuracy),8} {F(run.AccuracySd),6} " +
                $"{run.TestMacroF1?.ToString("F3", CultureInfo.InvariantCulture) ?? "-",8} {(run.DurationMs ?? 0) / 1000.0,7:F1}  " +
                $"{(best ? "* " : "")}{run.Parameters}{(run.Error is null ? "" : "  error: " + run.Error)}");
        }
        var first = report.Runs.FirstOrDefault()?.Run;
        if (first is not null)
            lines.Add(report.Evaluation == "cross-validation"
                ? $"evaluation: repeated stratified k-fold cross-validation over {first.TrainSize} labelled documents (accuracy = mean, ± = sd of the folds); models fitted on all of them, encoder {first.Encoder}"
                : $"evaluation: stored split, {first.TrainSize} train / {first.ValidationSize} validation / {first.TestSize} test documents, encoder {first.Encoder}");
        return string.Join('\n', lines);
    }
}

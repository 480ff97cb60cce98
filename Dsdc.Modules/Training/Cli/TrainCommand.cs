using System.Globalization;
using Dsdc.Shared.Cli;

namespace Dsdc.Training;

/// <summary><c>train [--runs N] [--epochs N]</c>: one training job, synchronously, then a table of its runs.</summary>
internal sealed class TrainCommand(TrainingService training) : ICliCommand
{
    public string Name => "train";
    public string Usage => "[--runs N] [--epochs N]  train MLPs on the stored split now; print the runs and the champion";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var report = await training.TrainAsync(cli.Int("--runs"), cli.Int("--epochs"), $"cli:{Environment.UserName}", ct);
        if (report.Skipped is { } why)
        {
            Console.Error.WriteLine($"Nothing trained: {why}. Run `ingest` on labelled documents first.");
            return 1;
        }
        Console.WriteLine(Table(report));
        Console.WriteLine(report.Promotion?.Message ?? "No run succeeded; the champion is unchanged.");
        return report.Runs.Any(r => r.Run.Status == "succeeded") ? 0 : 1;
    }

    internal static string Table(TrainingReport report)
    {
        var lines = new List<string> { $"{"run",5}  {"name",-10} {"status",-9} {"epochs",6} {"best",4} {"test acc",8} {"macro-F1",8} {"seconds",7}  parameters" };
        foreach (var (run, best) in report.Runs.Select(r => (r.Run, r.BestOfJob)))
        {
            string F(double? v) => v?.ToString("P1", CultureInfo.InvariantCulture) ?? "-";
            lines.Add($"{run.Id,5}  {run.Name,-10} {run.Status,-9} {run.EpochsRun?.ToString(CultureInfo.InvariantCulture) ?? "-",6} " +
                $"{run.BestEpoch?.ToString(CultureInfo.InvariantCulture) ?? "-",4} {F(run.TestAccuracy),8} " +
                $"{run.TestMacroF1?.ToString("F3", CultureInfo.InvariantCulture) ?? "-",8} {(run.DurationMs ?? 0) / 1000.0,7:F1}  " +
                $"{(best ? "* " : "")}{run.Parameters}{(run.Error is null ? "" : "  error: " + run.Error)}");
        }
        var first = report.Runs.FirstOrDefault()?.Run;
        if (first is not null)
            lines.Add($"split: {first.TrainSize} train / {first.ValidationSize} validation / {first.TestSize} test documents, encoder {first.Encoder}");
        return string.Join('\n', lines);
    }
}

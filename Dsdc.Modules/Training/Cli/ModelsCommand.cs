using System.Globalization;
using Dsdc.Shared.Cli;

namespace Dsdc.Training;

/// <summary><c>models list | promote RUN [--reason TEXT] | rollback [--reason TEXT] | documents RUN</c>.</summary>
internal sealed class ModelsCommand(ModelRegistry registry, TrainingStore store) : ICliCommand
{
    public string Name => "models";

    /// <summary>Where <c>documents</c> writes its CSV (standard output; a test reads it).</summary>
    internal TextWriter Output { get; init; } = Console.Out;
    public string Usage => "list [--limit N] | promote RUN [--reason TEXT] | rollback [--reason TEXT] | documents RUN  the model registry";
    public IReadOnlyList<string> Options => ["--reason TEXT", "--limit N"];

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var positional = cli.Positional("--reason", "--limit");
        var by = $"cli:{Environment.UserName}";
        switch (positional.FirstOrDefault())
        {
            case "list" or null:
                await ListAsync(cli.Int("--limit") ?? 50, ct);
                return 0;
            case "promote" when positional.Count == 2 && long.TryParse(positional[1], CultureInfo.InvariantCulture, out var runId):
                return Print(await registry.PromoteAsync(runId, by, cli.Value("--reason"), ct));
            case "rollback":
                return Print(await registry.RollbackAsync(by, cli.Value("--reason"), ct));
            case "documents" when positional.Count == 2 && long.TryParse(positional[1], CultureInfo.InvariantCulture, out var documentsOf):
                // The run's training set as CSV on standard output (what GET /api/v1/models/{run}/documents answers).
                if (await store.DatasetOfRunAsync(documentsOf, ct) is not { } set)
                {
                    Console.Error.WriteLine(await registry.RunAsync(documentsOf, ct) is { } run ? DatasetCsv.WhyNone(run) : $"Run {documentsOf} does not exist.");
                    return 1;
                }
                await DatasetCsv.WriteAsync(store, set.Id, Output, ct);
                return 0;
            default:
                Console.Error.WriteLine($"Usage: models {Usage}");
                return 2;
        }
    }

    private static int Print(PromotionResult result)
    {
        (result.Promoted ? Console.Out : Console.Error).WriteLine(result.Message);
        return result.Promoted ? 0 : 1;
    }

    private async Task ListAsync(int limit, CancellationToken ct)
    {
        var champion = await registry.ChampionRunIdAsync(ct);
        Console.WriteLine($"{"",1} {"run",5}  {"name",-10} {"status",-9} {"test acc",8} {"macro-F1",8}  {"encoder",-16} started");
        foreach (var r in await registry.RunsAsync(limit, ct))
            Console.WriteLine($"{(r.Id == champion ? "*" : " ")} {r.Id,5}  {r.Name,-10} {r.Status,-9} " +
                $"{r.TestAccuracy?.ToString("P1", CultureInfo.InvariantCulture) ?? "-",8} {r.TestMacroF1?.ToString("F3", CultureInfo.InvariantCulture) ?? "-",8}  " +
                $"{r.Encoder,-16} {r.StartedAt:yyyy-MM-dd HH:mm:ss}" + (r.FilesRemoved ? "  (model files removed)" : ""));
        Console.WriteLine("Promotions (newest last):");
        foreach (var p in await registry.PromotionsAsync(ct))
            Console.WriteLine($"  {p.PromotedAt:yyyy-MM-dd HH:mm:ss} run {p.RunId} ({p.Kind}, by {p.PromotedBy}, previous {p.PreviousRunId?.ToString(CultureInfo.InvariantCulture) ?? "none"}): {p.Reason}");
        Console.WriteLine(champion is null ? "No champion yet." : $"Champion: run {champion}.");
    }
}

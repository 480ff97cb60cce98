using Dsdc.Shared.Database;

namespace Dsdc.Shared.Cli;

internal sealed class MigrateCommand(MigrationRunner runner) : ICliCommand
{
    public string Name => "migrate";
    public IReadOnlyList<string> Options => [];
    public string Usage => "apply the pending database migrations of sql/";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var applied = await runner.MigrateAsync(ct);
        Console.WriteLine(applied.Count == 0
            ? $"Database is up to date ({MigrationRunner.Scripts.Count} migrations)."
            : $"Applied {applied.Count} migration(s): {string.Join(", ", applied)}.");
        return 0;
    }
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Shared.Database;

/// <summary>
/// Brings the schema up to date before the other hosted services (Hangfire's server among them) start. A database
/// that is still starting (compose, a reboot) is waited for up to <see cref="DatabaseOptions.StartupWaitSeconds"/>.
/// </summary>
internal sealed class MigrateOnStartService(
    MigrationRunner runner, IOptions<DatabaseOptions> options, ILogger<MigrateOnStartService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.MigrateOnStart) return;
        var deadline = DateTime.UtcNow.AddSeconds(options.Value.StartupWaitSeconds);
        while (true)
        {
            try
            {
                await runner.MigrateAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException ex) when (ex.IsTransient && DateTime.UtcNow < deadline)
            {
                logger.LogWarning("Database not reachable yet ({Reason}); retrying", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

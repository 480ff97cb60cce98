using Dsdc.Shared.Database;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Dsdc.Monitoring;

/// <summary>Ready when PostgreSQL answers within the check's time and every migration of this build is applied.</summary>
internal sealed class DatabaseReadyCheck(MigrationRunner migrations) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var pending = await migrations.PendingAsync(timeout.Token);
            return pending.Count == 0
                ? HealthCheckResult.Healthy("database reachable, schema up to date")
                : HealthCheckResult.Unhealthy($"{pending.Count} migration(s) pending: {string.Join(", ", pending)}");
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"database unreachable: {ex.GetType().Name}");
        }
    }
}

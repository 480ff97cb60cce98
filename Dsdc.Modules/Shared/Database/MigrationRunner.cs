using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Dsdc.Shared.Database;

/// <summary>
/// Applies the numbered scripts of <c>sql/</c> (embedded in this assembly) in order, each in its own transaction, and
/// journals them in <c>public.schema_migrations</c>. An advisory lock makes concurrent starts (several workers) safe.
/// A journaled script whose text changed afterwards is refused: migrations only move forward.
/// </summary>
public sealed class MigrationRunner(NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger)
{
    private const long AdvisoryLockKey = 0x44534443; // "DSDC"

    public sealed record Script(string Name, string Sql)
    {
        public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
    }

    public static IReadOnlyList<Script> Scripts { get; } = LoadScripts();

    private static List<Script> LoadScripts()
    {
        var assembly = typeof(MigrationRunner).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("sql/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => new Script(n["sql/".Length..^".sql".Length], Read(assembly, n)))
            .ToList();
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>Applies what is pending; returns the names applied now (empty when the database was up to date).</summary>
    public Task<IReadOnlyList<string>> MigrateAsync(CancellationToken ct) => MigrateAsync(null, ct);

    /// <summary>
    /// Applies what is pending up to and including the script named <paramref name="upTo"/> (every script when null),
    /// so that tests can build a database as an older release left it and then upgrade it.
    /// </summary>
    internal async Task<IReadOnlyList<string>> MigrateAsync(string? upTo, CancellationToken ct)
    {
        if (upTo is not null && Scripts.All(s => s.Name != upTo))
            throw new ArgumentException($"no migration is named {upTo}", nameof(upTo));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // Waits as long as another process migrates (a script may build an index for minutes), not the 30 s of a command.
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@AdvisoryLockKey)", new { AdvisoryLockKey }, cancellationToken: ct,
            commandTimeout: 0));
        try
        {
            await conn.ExecuteAsync(new CommandDefinition("""
                CREATE TABLE IF NOT EXISTS public.schema_migrations (
                    name       text PRIMARY KEY,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken: ct));
            var journal = (await conn.QueryAsync<(string Name, string Checksum)>(
                    new CommandDefinition("SELECT name, checksum FROM public.schema_migrations", cancellationToken: ct)))
                .ToDictionary(r => r.Name, r => r.Checksum);

            var applied = new List<string>();
            foreach (var script in upTo is null ? Scripts : Scripts.TakeWhile(s => string.CompareOrdinal(s.Name, upTo) <= 0))
            {
                if (journal.TryGetValue(script.Name, out var checksum))
                {
                    if (checksum != script.Checksum)
                        throw new InvalidOperationException(
                            $"Migration {script.Name} was changed after it was applied; add a new migration instead of editing it.");
                    continue;
                }

                await using var tx = await conn.BeginTransactionAsync(ct);
                try
                {
                    await conn.ExecuteAsync(new CommandDefinition(script.Sql, transaction: tx, cancellationToken: ct, commandTimeout: 600));
                }
                catch (PostgresException ex)
                {
                    throw new InvalidOperationException($"Migration {script.Name} failed: {ex.MessageText}", ex);
                }
                await conn.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO public.schema_migrations (name, checksum) VALUES (@Name, @Checksum)",
                    new { script.Name, script.Checksum }, tx, cancellationToken: ct));
                await tx.CommitAsync(ct);
                logger.LogInformation("Applied migration {Migration}", script.Name);
                applied.Add(script.Name);
            }

            // Types created by a migration (vector) must be known to connections opened from now on: also when another
            // process applied it while this one waited for the lock, after this connection had loaded the types.
            await conn.ReloadTypesAsync(ct);
            return applied;
        }
        finally
        {
            await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@AdvisoryLockKey)", new { AdvisoryLockKey }, cancellationToken: CancellationToken.None));
        }
    }

    /// <summary>Names of the scripts this build knows that the database has not applied yet.</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var exists = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT to_regclass('public.schema_migrations') IS NOT NULL", cancellationToken: ct));
        if (!exists) return Scripts.Select(s => s.Name).ToList();
        var applied = (await conn.QueryAsync<string>(new CommandDefinition(
            "SELECT name FROM public.schema_migrations", cancellationToken: ct))).ToHashSet();
        return Scripts.Where(s => !applied.Contains(s.Name)).Select(s => s.Name).ToList();
    }
}

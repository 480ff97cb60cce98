using System.Diagnostics;
using Npgsql;

namespace Dsdc.Tests.Reliability;

/// <summary>
/// A PostgreSQL cluster of the test's own (scripts/lib/postgres.sh: initdb + pg_ctl on a free 127.0.0.1 port), so a
/// test can stop and start it without touching the shared test cluster.
/// </summary>
public sealed class OwnPostgres : IAsyncDisposable
{
    private OwnPostgres(string dir, int port) => (Dir, Port) = (dir, port);

    public string Dir { get; }
    public int Port { get; }

    public string ConnectionString(string database = "dsdc") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=3;Command Timeout=30";

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "scripts", "lib", "postgres.sh"))) dir = dir.Parent;
            return dir?.FullName ?? "/work/main";
        }
    }

    public static async Task<OwnPostgres> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "dsdc-own-pg-" + Guid.NewGuid().ToString("N")[..12]);
        var port = int.Parse((await Shell($"free_port {Random.Shared.Next(56000, 60000)}")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var pg = new OwnPostgres(dir, port);
        await pg.StartServerAsync();
        await using var admin = new NpgsqlConnection(pg.ConnectionString("postgres") + ";Pooling=false");
        await admin.OpenAsync();
        await new NpgsqlCommand("CREATE DATABASE dsdc", admin).ExecuteNonQueryAsync();
        await using var db = new NpgsqlConnection(pg.ConnectionString() + ";Pooling=false");
        await db.OpenAsync();
        await new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", db).ExecuteNonQueryAsync();
        return pg;
    }

    public Task StartServerAsync() => Shell($"pg_cluster_start '{Dir}' {Port}");

    /// <summary>A fast shutdown: every connection is cut, as when the server goes away.</summary>
    public Task StopServerAsync() => Shell($"pg_cluster_stop '{Dir}'");

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await StopServerAsync();
        await Shell($"rm -rf '{Dir}'");
    }

    private static async Task<string> Shell(string command)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"set -e; source scripts/lib/postgres.sh; {command}");
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{command}: exit {p.ExitCode}: {await stderr}");
        return await stdout;
    }
}

using Dapper;
using Dsdc.Ingestion;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Dsdc.Tests.Ingestion;

/// <summary>The app on a database and data folder of its own, without schedules, for driving ingestion directly.</summary>
public sealed class IngestionApp(int settleSeconds = 0, bool jobServer = false, Action<IServiceCollection>? testServices = null) : DsdcAppFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Ingestion:SettleSeconds"] = settleSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Pipeline:Enabled"] = "false",
        ["Jobs:Server"] = jobServer ? "true" : "false",
    };

    /// <param name="testServices">replaces services of the app (a fault to inject), after its own registrations.</param>
    public static async Task<IngestionApp> StartAsync(int settleSeconds = 0, bool jobServer = false, Action<IServiceCollection>? testServices = null)
    {
        var app = new IngestionApp(settleSeconds, jobServer, testServices);
        await app.InitializeAsync();
        _ = app.Services; // builds and starts the host: migrations applied
        return app;
    }

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (testServices is not null) Microsoft.AspNetCore.TestHost.WebHostBuilderExtensions.ConfigureTestServices(builder, testServices);
    }

    public InboxIngestor Ingestor => Services.GetRequiredService<InboxIngestor>();
    public DsdcPaths Paths => Services.GetRequiredService<DsdcPaths>();

    /// <summary>Creates inbox/<paramref name="folder"/> with a copy of <paramref name="file"/> and, if given, a label.txt.</summary>
    public string Drop(string folder, string file, string? label = null, string? name = null)
    {
        var dir = Path.Combine(Paths.Inbox, folder);
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, name ?? Path.GetFileName(file));
        File.Copy(file, target);
        if (label is not null) File.WriteAllText(Path.Combine(dir, "label.txt"), label);
        return target;
    }

    public string DropBytes(string folder, string name, byte[] bytes, string? label = null)
    {
        var dir = Path.Combine(Paths.Inbox, folder);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, name), bytes);
        if (label is not null) File.WriteAllText(Path.Combine(dir, "label.txt"), label);
        return Path.Combine(dir, name);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = new NpgsqlConnection(Database.ConnectionString);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = new NpgsqlConnection(Database.ConnectionString);
        return (await conn.QueryAsync<T>(sql, args)).AsList();
    }

    /// <summary>What is left in the inbox.</summary>
    public List<string> InboxEntries() =>
        Directory.EnumerateFileSystemEntries(Paths.Inbox).Where(e => Path.GetFileName(e) != ".gitkeep").ToList();

    /// <summary>Every file under a data sub-folder, relative to it.</summary>
    public List<string> FilesUnder(string sub) =>
        Directory.EnumerateFiles(Path.Combine(Paths.DataDir, sub), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != ".gitkeep")
            .Select(f => Path.GetRelativePath(Path.Combine(Paths.DataDir, sub), f)).Order().ToList();
}

/// <summary>Collects a run's outcomes as they are reported (synchronously, unlike <see cref="Progress{T}"/>).</summary>
internal sealed class Collect(List<IngestionOutcome> into) : IProgress<IngestionOutcome>
{
    public void Report(IngestionOutcome value) => into.Add(value);
}

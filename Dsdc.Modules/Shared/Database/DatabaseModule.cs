using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Dsdc.Shared.Database;

public static class DatabaseModule
{
    public const string ConnectionStringKey = "ConnectionStrings:Dsdc";

    /// <summary>One <see cref="NpgsqlDataSource"/> for the process (pgvector enabled), Dapper set up for snake_case.</summary>
    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetRequiredValue(ConnectionStringKey);
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ConfigurationException(ConnectionStringKey, $"is not a valid PostgreSQL connection string: {ex.Message}");
        }

        ConfigureDapper();
        builder.Services.AddNpgsqlDataSource(connectionString, b => b.UseVector());
        builder.AddValidatedOptions<DatabaseOptions>(DatabaseOptions.Section);
        builder.Services.AddSingleton<MigrationRunner>();
        builder.Services.AddHostedService<MigrateOnStartService>();
        return builder;
    }

    private static int _dapperConfigured;

    internal static void ConfigureDapper()
    {
        if (Interlocked.Exchange(ref _dapperConfigured, 1) == 1) return;
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new VectorTypeHandler());
    }
}

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Apply pending migrations when the app starts (the <c>migrate</c> command always does).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>How long start-up waits for an unreachable database before giving up.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 3600)]
    public int StartupWaitSeconds { get; set; } = 60;
}

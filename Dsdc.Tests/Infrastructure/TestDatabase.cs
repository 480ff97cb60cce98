using Npgsql;

namespace Dsdc.Tests.Infrastructure;

/// <summary>
/// A database of its own for one test class, on the throw-away cluster that scripts/test.sh starts
/// (<c>DSDC_TEST_POSTGRES</c>). No cluster is a failure with a clear message, never a silent skip.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("DSDC_TEST_POSTGRES") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                "DSDC_TEST_POSTGRES is not set: run the tests with scripts/test.sh, which starts a throw-away PostgreSQL with pgvector.");

    public static async Task<TestDatabase> CreateAsync()
    {
        var name = "dsdc_t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = new NpgsqlConnection(ServerConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var cs = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name, Pooling = true }.ConnectionString;
        // As the application's own role would find it after scripts/start.sh: the extension exists.
        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var ext = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", conn);
            await ext.ExecuteNonQueryAsync();
        }
        return new TestDatabase(name, cs);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(ServerConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

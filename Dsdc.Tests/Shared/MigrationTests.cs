using Dapper;
using Dsdc.Shared.Database;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Dsdc.Tests.Shared;

public sealed class MigrationTests
{
    private const string SchemaQuery = """
        SELECT table_schema || '.' || table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
        FROM information_schema.columns
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
        UNION ALL
        SELECT schemaname || '.' || indexname || ':' || indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog')
        ORDER BY 1
        """;

    [Fact]
    public async Task MigrationsApplyToAnEmptyDatabaseAndChangeNothingTheSecondTime()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var dataSource = new NpgsqlDataSourceBuilder(db.ConnectionString).Build();
        var runner = new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance);
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal(MigrationRunner.Scripts.Select(s => s.Name), await runner.PendingAsync(ct));
        var first = await runner.MigrateAsync(ct);
        Assert.Equal(MigrationRunner.Scripts.Select(s => s.Name), first);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var schemaAfterFirst = (await conn.QueryAsync<string>(SchemaQuery)).ToList();

        var second = await runner.MigrateAsync(ct);

        Assert.Empty(second);
        Assert.Empty(await runner.PendingAsync(ct));
        Assert.Equal(schemaAfterFirst, (await conn.QueryAsync<string>(SchemaQuery)).ToList());
        Assert.Contains(schemaAfterFirst, c => c.StartsWith("embedding.embeddings.embedding:USER-DEFINED", StringComparison.Ordinal));
        foreach (var table in new[] { "ingestion.original_documents", "ingestion.labels", "pipeline.raw_texts", "pipeline.processed_texts", "pipeline.processed_images", "embedding.embeddings" })
            Assert.Contains(schemaAfterFirst, c => c.StartsWith($"{table}.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConcurrentRunnersApplyEachMigrationOnce()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var dataSource = new NpgsqlDataSourceBuilder(db.ConnectionString).Build();
        var ct = TestContext.Current.CancellationToken;

        var results = await Task.WhenAll(Enumerable.Range(0, 4)
            .Select(_ => new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance).MigrateAsync(ct)));

        Assert.Equal(MigrationRunner.Scripts.Count, results.Sum(r => r.Count));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        Assert.Equal(MigrationRunner.Scripts.Count, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task AnAppliedMigrationThatWasEditedIsRefused()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var dataSource = new NpgsqlDataSourceBuilder(db.ConnectionString).Build();
        var runner = new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance);
        var ct = TestContext.Current.CancellationToken;
        await runner.MigrateAsync(ct);
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
            await conn.ExecuteAsync("UPDATE schema_migrations SET checksum = 'edited' WHERE name = @Name",
                new { MigrationRunner.Scripts[0].Name });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => runner.MigrateAsync(ct));

        Assert.Contains(MigrationRunner.Scripts[0].Name, error.Message);
        Assert.Contains("changed after it was applied", error.Message);
    }

    [Fact]
    public async Task TheVectorTypeRoundTripsThroughDapper()
    {
        await using var db = await TestDatabase.CreateAsync();
        var builder = new NpgsqlDataSourceBuilder(db.ConnectionString);
        builder.UseVector();
        await using var dataSource = builder.Build();
        DatabaseModule.ConfigureDapper();
        var ct = TestContext.Current.CancellationToken;
        await using var conn = await dataSource.OpenConnectionAsync(ct);

        var distance = await conn.ExecuteScalarAsync<double>("SELECT @A <=> @B",
            new { A = new Pgvector.Vector(new float[] { 1, 2, 3 }), B = new Pgvector.Vector(new float[] { 1, 2, 4 }) });
        var back = await conn.QuerySingleAsync<Pgvector.Vector>("SELECT @V", new { V = new Pgvector.Vector(new float[] { 0.5f, -1 }) });

        Assert.Equal(0.0085, distance, 4);
        Assert.Equal(new[] { 0.5f, -1f }, back.ToArray());
    }
}

using Dapper;
using Dsdc.Shared.Database;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Dsdc.Tests.Embedding;

/// <summary>A migrated database of its own and helpers that write lineage rows directly, as the pipeline stages would.</summary>
public sealed class EmbeddingDatabase : IAsyncLifetime
{
    private TestDatabase? _database;

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        DatabaseModule.ConfigureDapper();
        var builder = new NpgsqlDataSourceBuilder(_database.ConnectionString);
        builder.UseVector();
        DataSource = builder.Build();
        await new MigrationRunner(DataSource, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);
    }

    public async Task<string> AddDocumentAsync(int? datasetLabel = null)
    {
        var id = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";
        await using var conn = await DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO ingestion.original_documents (id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height)
            VALUES (@id, 'page.tif', 'tests', 'raw/' || @id || '.tif', 'image/tiff', 1000, 1, 754, 1000)
            """, new { id });
        if (datasetLabel is { } label) await AddLabelAsync(id, label, "dataset");
        return id;
    }

    public async Task AddLabelAsync(string documentId, int label, string source)
    {
        await using var conn = await DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source) VALUES (@documentId, @label, @source)",
            new { documentId, label = (short)label, source });
    }

    public async Task<long> AddProcessedImageAsync(string documentId, string relativePng, string version = "test-1")
    {
        await using var conn = await DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("""
            INSERT INTO pipeline.processed_images (document_id, file_path, width, height, processor, processor_version)
            VALUES (@documentId, @relativePng, 224, 224, 'test', @version) RETURNING id
            """, new { documentId, relativePng, version });
    }

    public async Task<long> AddProcessedTextAsync(string documentId, string text, string version = "test-1")
    {
        await using var conn = await DataSource.OpenConnectionAsync();
        var raw = await conn.ExecuteScalarAsync<long>("""
            INSERT INTO pipeline.raw_texts (document_id, text, method, processor, processor_version, duration_ms)
            VALUES (@documentId, @text, 'ocr', 'test', @version, 1) RETURNING id
            """, new { documentId, text, version });
        return await conn.ExecuteScalarAsync<long>("""
            INSERT INTO pipeline.processed_texts (raw_text_id, document_id, text, processor, processor_version)
            VALUES (@raw, @documentId, @text, 'test', @version) RETURNING id
            """, new { raw, documentId, text, version });
    }

    public async Task<List<(string DocumentId, long ProcessedImageId, long ProcessedTextId, string Encoder, int Dimensions)>> EmbeddingsAsync()
    {
        await using var conn = await DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<(string, long, long, string, int)>(
            "SELECT document_id, processed_image_id, processed_text_id, encoder, dimensions FROM embedding.embeddings ORDER BY id")).AsList();
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
    }
}

using Dapper;
using Npgsql;

namespace Dsdc.Inference.Api;

public sealed record PredictionRow(long Id, string DocumentId, string UserName, string ModelId, short Label, double Confidence, DateTime CreatedAt);

public sealed record HumanLabel(long Id, string DocumentId, short Label, string Source, string? CreatedBy, DateTime CreatedAt);

/// <summary>SQL of the prediction API: the record of every prediction, and corrections as human labels.</summary>
public sealed class PredictionStore(NpgsqlDataSource dataSource)
{
    public async Task<long> RecordAsync(string documentId, string userName, Classification c, int durationMs, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO inference.predictions
                (document_id, user_name, model_run_id, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
            VALUES (@documentId, @userName, @ModelRunId, @ModelId, @Label, @Confidence, @TopProbability, @Probabilities, @durationMs, @NeedsReview)
            RETURNING id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(sql, new
        {
            documentId, userName, c.ModelRunId, c.ModelId, Label = (short)c.Label, c.Confidence, c.TopProbability,
            Probabilities = c.Probabilities.ToArray(), durationMs, c.NeedsReview,
        }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<PredictionRow>> ForDocumentAsync(string documentId, CancellationToken ct)
    {
        const string sql = """
            SELECT id, document_id, user_name, model_id, label, confidence, created_at
            FROM inference.predictions WHERE document_id = @documentId ORDER BY created_at DESC, id DESC LIMIT 50
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<PredictionRow>(new CommandDefinition(sql, new { documentId }, cancellationToken: ct))).AsList();
    }

    public async Task<bool> DocumentExistsAsync(string documentId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM original_documents WHERE id = @documentId AND ingest_state = 'stored')",
            new { documentId }, cancellationToken: ct));
    }

    /// <summary>A person's label: it wins over the dataset label in the next training run.</summary>
    public async Task<HumanLabel> AddHumanLabelAsync(string documentId, int label, string userName, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO labels (document_id, label, source, created_by) VALUES (@documentId, @label, 'human', @userName)
            RETURNING id, document_id, label, source, created_by, created_at
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<HumanLabel>(new CommandDefinition(sql, new { documentId, label = (short)label, userName }, cancellationToken: ct));
    }
}

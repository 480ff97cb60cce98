using Dapper;
using Npgsql;

namespace Dsdc.Ingestion;

/// <summary>One file of an upload batch as recorded: stored (with its id) or rejected (with its reason).</summary>
/// <param name="Outcome"><c>accepted</c>, <c>duplicate</c> or <c>rejected</c>.</param>
/// <param name="DocumentId">Accepted: the new document. Duplicate: the known document it repeats.</param>
public sealed record BatchEntry(string Folder, string? FileName, string Outcome, string? DocumentId, string? ReasonCode, string? Reason, DateTime At);

/// <summary>Labelled documents of one class by the source of their current label.</summary>
public sealed record ClassLabelCount(short Label, long Human, long Dataset);

/// <summary>Labels written after a moment: how many rows, on how many documents.</summary>
public sealed record LabelChanges(long Labels, long Documents, long Human);

/// <summary>Read-only SQL over the ingestion module's tables: upload batches and label counts.</summary>
public sealed class IngestionQueries(NpgsqlDataSource dataSource)
{
    /// <summary>Every file of the upload batch <paramref name="batch"/>, in upload order, from the lineage and the rejections.</summary>
    public async Task<IReadOnlyList<BatchEntry>> BatchAsync(string batch, CancellationToken ct)
    {
        if (!InboxIngestor.IsBatchId(batch)) return [];
        const string sql = """
            SELECT source_folder AS folder, original_name AS file_name, 'accepted' AS outcome, id AS document_id,
                   NULL AS reason_code, NULL AS reason, ingested_at AS at
            FROM original_documents WHERE source_folder LIKE @prefix AND ingest_state = 'stored'
            UNION ALL
            SELECT source_folder, file_name, CASE WHEN reason_code = @duplicate THEN 'duplicate' ELSE 'rejected' END,
                   CASE WHEN reason_code = @duplicate THEN sha1 END, reason_code, reason, rejected_at
            FROM rejected_documents WHERE source_folder LIKE @prefix
            ORDER BY folder
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<BatchEntry>(new CommandDefinition(sql,
            new { prefix = InboxIngestor.UploadFolderPrefix + batch + "-%", duplicate = InboxIngestor.DuplicateReason }, cancellationToken: ct))).AsList();
    }

    /// <summary>Stored documents per class of their current label (<see cref="CurrentLabel"/>), split by that label's source.</summary>
    public async Task<IReadOnlyList<ClassLabelCount>> LabelCountsAsync(CancellationToken ct)
    {
        const string sql = $"""
            SELECT cl.label, count(*) FILTER (WHERE cl.source = 'human') AS human, count(*) FILTER (WHERE cl.source = 'dataset') AS dataset
            FROM original_documents d {CurrentLabel.JoinOnDocument}
            WHERE d.ingest_state = 'stored'
            GROUP BY cl.label ORDER BY cl.label
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<ClassLabelCount>(new CommandDefinition(sql, cancellationToken: ct))).AsList();
    }

    /// <summary>Stored documents that have no label at all.</summary>
    public async Task<long> UnlabelledCountAsync(CancellationToken ct)
    {
        const string sql = """
            SELECT count(*) FROM original_documents d
            WHERE d.ingest_state = 'stored' AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.document_id = d.id)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(sql, cancellationToken: ct));
    }

    /// <summary>Labels added (a new label, or a correction of an earlier one) after <paramref name="since"/>.</summary>
    public async Task<LabelChanges> LabelsSinceAsync(DateTime since, CancellationToken ct)
    {
        const string sql = """
            SELECT count(*) AS labels, count(DISTINCT document_id) AS documents, count(*) FILTER (WHERE source = 'human') AS human
            FROM labels WHERE created_at > @since
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<LabelChanges>(new CommandDefinition(sql, new { since }, cancellationToken: ct));
    }
}

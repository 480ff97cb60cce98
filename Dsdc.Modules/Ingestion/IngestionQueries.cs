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

/// <summary>A stored document in a list, with its current label (<see cref="CurrentLabel"/>).</summary>
public sealed record DocumentSummary(string Id, string OriginalName, string MediaType, DateTime IngestedAt, short? Label, string? LabelSource,
    long? LabelId);

/// <summary>
/// A place in the documents list (newest first, then by id): the last document a client was given. The documents after it
/// are the older ones, and those of the same moment with a greater id, whatever was stored since.
/// </summary>
public sealed record ListPosition(DateTime IngestedAt, string Id);

/// <summary>A stored document's file as ingested.</summary>
public sealed record DocumentFile(string Id, string OriginalName, string SourceFolder, string FilePath, string MediaType, long FileSize,
    int PageCount, int Width, int Height, DateTime IngestedAt);

/// <summary>One label of a document (labels accumulate; a row is never changed, so <paramref name="Id"/> names this version of
/// the document's label).</summary>
public sealed record LabelEntry(long Id, short Label, string Source, string? CreatedBy, DateTime CreatedAt);

/// <summary>Read-only SQL over the ingestion module's tables: documents, upload batches, labels and label counts.</summary>
public sealed class IngestionQueries(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Stored documents, newest first, whose id starts with <paramref name="idPrefix"/>, whose file name contains
    /// <paramref name="nameContains"/> (a LIKE pattern, already escaped) or whose current label is <paramref name="label"/>;
    /// all of them when the three are null. Skips <paramref name="skip"/>, returns at most <paramref name="take"/>; with
    /// <paramref name="after"/>, only the documents that come after that place in the list (keyset paging: a page read
    /// this way neither repeats nor skips a document when newer ones arrive, and starts from the index however deep).
    /// Without a class the page is chosen from the documents alone and only its documents' labels are read; with one,
    /// each document's label is looked up as the newest documents are read until the page is full
    /// (<see cref="CurrentLabel.LookupOnDocument"/>; docs/benchmarks.md, "The documents list at 100,000 documents").
    /// </summary>
    public async Task<IReadOnlyList<DocumentSummary>> DocumentsAsync(string? idPrefix, string? nameContains, int? label, int skip, int take,
        CancellationToken ct, ListPosition? after = null)
    {
        // Written so that the ingested_at index starts the scan at the position: at or before its moment, and at its moment
        // only the greater ids (the list's order within a moment).
        const string afterPosition =
            "(@afterAt::timestamptz IS NULL OR (d.ingested_at <= @afterAt AND (d.ingested_at < @afterAt OR d.id > @afterId)))";
        const string byDocument = $"""
            SELECT d.id, d.original_name, d.media_type, d.ingested_at, cl.label, cl.source AS label_source, cl.id AS label_id
            FROM (SELECT d.id, d.original_name, d.media_type, d.ingested_at
                  FROM ingestion.documents d
                  WHERE ((@idPrefix::text IS NULL AND @nameContains::text IS NULL)
                         OR d.id LIKE @idPrefix || '%' OR d.original_name ILIKE '%' || @nameContains || '%')
                    AND {afterPosition}
                  ORDER BY d.ingested_at DESC, d.id
                  LIMIT @take OFFSET @skip) d
            LEFT {CurrentLabel.LookupOnDocument}
            ORDER BY d.ingested_at DESC, d.id
            """;
        const string byClass = $"""
            SELECT d.id, d.original_name, d.media_type, d.ingested_at, cl.label, cl.source AS label_source, cl.id AS label_id
            FROM ingestion.documents d
            LEFT {CurrentLabel.LookupOnDocument}
            WHERE (cl.label = @label OR d.id LIKE @idPrefix || '%' OR d.original_name ILIKE '%' || @nameContains || '%')
              AND {afterPosition}
            ORDER BY d.ingested_at DESC, d.id
            LIMIT @take OFFSET @skip
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<DocumentSummary>(new CommandDefinition(label is null ? byDocument : byClass,
            new { idPrefix, nameContains, label, take, skip, afterAt = after?.IngestedAt, afterId = after?.Id }, cancellationToken: ct))).AsList();
    }

    /// <summary>A stored document's file, or null when no stored document has this id.</summary>
    public async Task<DocumentFile?> DocumentAsync(string id, CancellationToken ct)
    {
        const string sql = """
            SELECT id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height, ingested_at
            FROM ingestion.documents WHERE id = @id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<DocumentFile>(new CommandDefinition(sql, new { id }, cancellationToken: ct));
    }

    /// <summary>Every label of a document, newest first.</summary>
    public async Task<IReadOnlyList<LabelEntry>> LabelsAsync(string id, CancellationToken ct)
    {
        const string sql = "SELECT id, label, source, created_by, created_at FROM ingestion.labels WHERE document_id = @id ORDER BY created_at DESC, id DESC";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<LabelEntry>(new CommandDefinition(sql, new { id }, cancellationToken: ct))).AsList();
    }

    /// <summary>The current label of a document (<see cref="CurrentLabel"/>), or null when it has none.</summary>
    public async Task<LabelEntry?> CurrentLabelAsync(string id, CancellationToken ct)
    {
        const string sql = $"SELECT id, label, source, created_by, created_at FROM {CurrentLabel.View} WHERE document_id = @id";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<LabelEntry>(new CommandDefinition(sql, new { id }, cancellationToken: ct));
    }

    /// <summary>Every file of the upload batch <paramref name="batch"/>, in upload order, from the lineage and the rejections.</summary>
    public async Task<IReadOnlyList<BatchEntry>> BatchAsync(string batch, CancellationToken ct)
    {
        if (!InboxIngestor.IsBatchId(batch)) return [];
        const string sql = """
            SELECT source_folder AS folder, original_name AS file_name, 'accepted' AS outcome, id AS document_id,
                   NULL AS reason_code, NULL AS reason, ingested_at AS at
            FROM ingestion.original_documents WHERE source_folder LIKE @prefix AND ingest_state = 'stored'
            UNION ALL
            SELECT source_folder, file_name, CASE WHEN reason_code = @duplicate THEN 'duplicate' ELSE 'rejected' END,
                   CASE WHEN reason_code = @duplicate THEN sha1 END, reason_code, reason, rejected_at
            FROM ingestion.rejected_documents WHERE source_folder LIKE @prefix
            ORDER BY folder
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<BatchEntry>(new CommandDefinition(sql,
            new { prefix = InboxIngestor.UploadFolderPrefix + batch + "-%", duplicate = InboxIngestor.DuplicateReason }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// How many stored documents a label set after <paramref name="since"/> gave another current label than the one they had
    /// then, or a first one (every labelled document when <paramref name="since"/> is null). A confirmation of the class a
    /// document had, or a correction undone since, is not counted. The label in force at <paramref name="since"/> follows
    /// the rule of <see cref="CurrentLabel.View"/> over the labels written by then (a person's label first, then the newest).
    /// </summary>
    public async Task<long> DocumentsRelabelledSinceAsync(DateTime? since, CancellationToken ct)
    {
        const string sql = $"""
            SELECT count(*) FROM {CurrentLabel.View} c JOIN ingestion.documents d ON d.id = c.document_id
            WHERE c.created_at > @since
              AND c.label IS DISTINCT FROM (
                  SELECT l.label FROM ingestion.labels l
                  WHERE l.document_id = c.document_id AND l.created_at <= @since
                  ORDER BY (l.source = 'human') DESC, l.created_at DESC, l.id DESC LIMIT 1)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(sql,
            new { since = since is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : DateTime.MinValue }, cancellationToken: ct));
    }

    /// <summary>Stored documents per class of their current label (<see cref="CurrentLabel"/>), split by that label's source.</summary>
    public async Task<IReadOnlyList<ClassLabelCount>> LabelCountsAsync(CancellationToken ct)
    {
        const string sql = $"""
            SELECT cl.label, count(*) FILTER (WHERE cl.source = 'human') AS human, count(*) FILTER (WHERE cl.source = 'dataset') AS dataset
            FROM ingestion.original_documents d {CurrentLabel.JoinOnDocument}
            WHERE d.ingest_state = 'stored'
            GROUP BY cl.label ORDER BY cl.label
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<ClassLabelCount>(new CommandDefinition(sql, cancellationToken: ct))).AsList();
    }

    /// <summary>Documents hidden for a deletion that has not finished (under way, or whose files could not be removed yet).</summary>
    public async Task<long> UnfinishedDeletionsCountAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM ingestion.original_documents WHERE ingest_state = 'deleting'", cancellationToken: ct));
    }

    /// <summary>Stored documents that have no label at all.</summary>
    public async Task<long> UnlabelledCountAsync(CancellationToken ct)
    {
        const string sql = """
            SELECT count(*) FROM ingestion.original_documents d
            WHERE d.ingest_state = 'stored' AND NOT EXISTS (SELECT 1 FROM ingestion.labels l WHERE l.document_id = d.id)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(sql, cancellationToken: ct));
    }

    /// <summary>Labels added (a new label, or a correction of an earlier one) after <paramref name="since"/>.</summary>
    public async Task<LabelChanges> LabelsSinceAsync(DateTime since, CancellationToken ct)
    {
        const string sql = """
            SELECT count(*) AS labels, count(DISTINCT document_id) AS documents, count(*) FILTER (WHERE source = 'human') AS human
            FROM ingestion.labels WHERE created_at > @since
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<LabelChanges>(new CommandDefinition(sql, new { since }, cancellationToken: ct));
    }
}

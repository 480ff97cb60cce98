using Dapper;
using Npgsql;

namespace Dsdc.Ingestion;

public sealed record KnownDocument(string Id, string SourceFolder, string OriginalName, string FilePath, string IngestState, DateTime IngestedAt);

public sealed record NewDocument(
    string Id, string OriginalName, string SourceFolder, string FilePath, string MediaType, long FileSize, int PageCount,
    int Width, int Height, IncomingLabel? Label);

/// <summary>A class that arrives with a file: from a <c>label.txt</c> (a dataset label, <paramref name="CreatedBy"/> null) or
/// given by a person with an upload (a human label, as a correction would be).</summary>
public sealed record IncomingLabel(int Label, string? CreatedBy)
{
    public string Source => CreatedBy is null ? "dataset" : "human";
}

public sealed record HumanLabel(long Id, string DocumentId, short Label, string Source, string? CreatedBy, DateTime CreatedAt);

/// <summary>What a guarded label write found: whether the document is known, the label written (null when the check
/// failed), and the current label the check saw (null: none).</summary>
public sealed record GuardedLabel(bool Known, HumanLabel? Written, LabelEntry? Current);

/// <summary>SQL of the ingestion module: original documents, their labels, and rejections.</summary>
public sealed class DocumentStore(NpgsqlDataSource dataSource)
{
    /// <summary>The source folder of the documents stored by a prediction's upload (<see cref="DocumentIntake.UploadFolder"/>),
    /// a constant in the SQL so that the retention sweep's partial index applies.</summary>
    private const string UploadFolder = DocumentIntake.UploadFolder;

    /// <summary>What <see cref="StartDeletionAsync"/> found.</summary>
    public enum DeletionStart { Unknown, BeingStored, InUse, Started }

    /// <summary>Whether a stored document has this id (a row still moving into raw/ is not a document yet).</summary>
    public async Task<bool> DocumentExistsAsync(string documentId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM ingestion.documents WHERE id = @documentId)",
            new { documentId }, cancellationToken: ct));
    }

    /// <summary>The classes that some stored document has as its current label now (every current label is read: about
    /// 0.3 s at 100,000 labelled documents on 2 cores: docs/benchmarks.md).</summary>
    public async Task<IReadOnlyList<int>> LabelledClassesAsync(CancellationToken ct)
    {
        const string sql = $"""
            SELECT DISTINCT l.label FROM {CurrentLabel.View} l JOIN ingestion.documents d ON d.id = l.document_id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<short>(new CommandDefinition(sql, cancellationToken: ct))).Select(l => (int)l).ToList();
    }

    /// <summary>
    /// What the store knows of files whose document ids (SHA-1 of their bytes) are <paramref name="ids"/>: the stored
    /// documents among them, with their current label (null when they have none), and the files refused before for one of
    /// the reasons <paramref name="codes"/>. Two queries, however many files.
    /// </summary>
    public async Task<(Dictionary<string, short?> Stored, HashSet<string> Refused)> KnownFilesAsync(
        IReadOnlyCollection<string> ids, IReadOnlyCollection<string> codes, CancellationToken ct)
    {
        const string sql = $"""
            SELECT d.id AS Id, l.label AS Label FROM ingestion.documents d
                LEFT JOIN {CurrentLabel.View} l ON l.document_id = d.id WHERE d.id = ANY(@ids);
            SELECT DISTINCT sha1 FROM ingestion.rejected_documents WHERE sha1 = ANY(@ids) AND reason_code = ANY(@codes);
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var results = await conn.QueryMultipleAsync(new CommandDefinition(sql,
            new { ids = ids.ToArray(), codes = codes.ToArray() }, cancellationToken: ct));
        var stored = (await results.ReadAsync<(string Id, short? Label)>()).ToDictionary(r => r.Id, r => r.Label, StringComparer.Ordinal);
        var refused = (await results.ReadAsync<string>()).ToHashSet(StringComparer.Ordinal);
        return (stored, refused);
    }

    /// <summary>A person's label: it wins over the dataset label (<see cref="CurrentLabel"/>) in the next training run.</summary>
    /// <remarks>Written under the document's lock like the guarded writes, so that the label written last is the current one.</remarks>
    /// <exception cref="KeyNotFoundException">no document has this id.</exception>
    public async Task<HumanLabel> AddHumanLabelAsync(string documentId, int label, string userName, CancellationToken ct) =>
        (await WriteLabelIfAsync(documentId, label, "human", userName, _ => true, ct)).Written
        ?? throw new KeyNotFoundException($"No document has the id '{documentId}'.");

    /// <summary>
    /// A person's label written only if the document's current label (<see cref="CurrentLabel"/>; null: none) passes
    /// <paramref name="expected"/>: a client's <c>If-Match</c> or <c>If-None-Match</c> on the label
    /// (<see cref="WriteLabelIfAsync"/>).
    /// </summary>
    public Task<GuardedLabel> AddHumanLabelIfAsync(string documentId, int label, string userName, Func<LabelEntry?, bool> expected,
        CancellationToken ct) =>
        WriteLabelIfAsync(documentId, label, "human", userName, expected, ct);

    /// <summary>
    /// A person's label confirming what a prediction made at <paramref name="predictedAt"/> said, unless a person labelled
    /// the document since (true when written): the current label is then that person's, the newest human label.
    /// </summary>
    public async Task<bool> ConfirmLabelAsync(string documentId, int label, DateTime predictedAt, string userName, CancellationToken ct) =>
        (await AddHumanLabelIfAsync(documentId, label, userName, NobodyLabelledSince(predictedAt), ct)).Written is not null;

    /// <summary>The check of a confirmation: no person labelled the document after <paramref name="moment"/> (a person's
    /// label, once written, is the current one, and the newest person's label of all).</summary>
    public static Func<LabelEntry?, bool> NobodyLabelledSince(DateTime moment) =>
        current => !(current is { Source: "human" } && current.CreatedAt > moment);

    /// <summary>
    /// Gives a known document <paramref name="label"/> when it has no label at all, and never replaces one: returns null
    /// when the label was written, else the document's current label (<see cref="CurrentLabel"/>), which stays.
    /// </summary>
    /// <exception cref="KeyNotFoundException">no document has this id.</exception>
    public async Task<short?> LabelIfUnlabelledAsync(string documentId, IncomingLabel label, CancellationToken ct)
    {
        var result = await WriteLabelIfAsync(documentId, label.Label, label.Source, label.CreatedBy, current => current is null, ct);
        if (!result.Known) throw new KeyNotFoundException($"No document has the id '{documentId}'.");
        return result.Written is null ? result.Current!.Label : null;
    }

    /// <summary>
    /// Writes a label only if the document's current label, read under the document's row lock, passes
    /// <paramref name="expected"/>. Every label insert's foreign-key check waits for that lock, so no other label of this
    /// document comes in between the check and the write; a check that fails writes nothing. The label's time is taken once
    /// the lock is held (<c>clock_timestamp()</c>, not the transaction's start), so labels of a document are dated in the
    /// order their writes took the lock, and the one written last is the current one (<see cref="CurrentLabel"/>).
    /// </summary>
    private async Task<GuardedLabel> WriteLabelIfAsync(string documentId, int label, string source, string? createdBy,
        Func<LabelEntry?, bool> expected, CancellationToken ct)
    {
        const string read = $"""
            SELECT 1 FROM ingestion.original_documents WHERE id = @documentId AND ingest_state <> 'deleting' FOR UPDATE;
            SELECT id, label, source, created_by, created_at FROM {CurrentLabel.View} WHERE document_id = @documentId;
            """;
        const string write = """
            INSERT INTO ingestion.labels (document_id, label, source, created_by, created_at)
            VALUES (@documentId, @label, @source, @createdBy, clock_timestamp())
            RETURNING id, document_id, label, source, created_by, created_at
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        bool known;
        LabelEntry? current;
        await using (var results = await conn.QueryMultipleAsync(new CommandDefinition(read, new { documentId }, tx, cancellationToken: ct)))
        {
            known = (await results.ReadAsync<int>()).Any();
            current = await results.ReadSingleOrDefaultAsync<LabelEntry>();
        }
        if (!known || !expected(current)) return new GuardedLabel(known, null, current);
        var written = await conn.QuerySingleAsync<HumanLabel>(new CommandDefinition(write,
            new { documentId, label = (short)label, source, createdBy }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return new GuardedLabel(true, written, current);
    }

    public async Task<KnownDocument?> FindAsync(string id, CancellationToken ct)
    {
        const string sql = """
            SELECT id, source_folder, original_name, file_path, ingest_state, ingested_at
            FROM ingestion.original_documents WHERE id = @id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<KnownDocument>(new CommandDefinition(sql, new { id }, cancellationToken: ct));
    }

    /// <summary>Records a document about to move into raw/ (state 'moving'); false when its id is already known.</summary>
    public async Task<bool> TryAddMovingAsync(NewDocument doc, CancellationToken ct)
    {
        const string insertDocument = $"""
            INSERT INTO ingestion.original_documents
                (id, original_name, source_folder, file_path, media_type, file_size, page_count, width, height, ingest_state, uploaded_at)
            VALUES (@Id, @OriginalName, @SourceFolder, @FilePath, @MediaType, @FileSize, @PageCount, @Width, @Height, 'moving',
                    CASE WHEN @SourceFolder = '{UploadFolder}' THEN now() END)
            ON CONFLICT (id) DO NOTHING
            """;
        const string insertLabel = """
            INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@Id, @Label, @Source, @CreatedBy)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await conn.ExecuteAsync(new CommandDefinition(insertDocument, doc, tx, cancellationToken: ct)) == 0)
            return false;
        if (doc.Label is { } label)
            await conn.ExecuteAsync(new CommandDefinition(insertLabel, new { doc.Id, Label = (short)label.Label, label.Source, label.CreatedBy }, tx,
                cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task MarkStoredAsync(string id, CancellationToken ct)
    {
        // A document being deleted stays so: its files are going.
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "UPDATE ingestion.original_documents SET ingest_state = 'stored' WHERE id = @id AND ingest_state <> 'deleting'", new { id }, cancellationToken: ct));
    }

    /// <summary>
    /// Hides a stored document for its deletion (state 'deleting': ingestion.documents no longer lists it, and its id stays
    /// taken until <see cref="FinishDeletionAsync"/>) and records who deleted it; or finds it hidden already (a deletion
    /// under way or interrupted: <see cref="DeletionStart.Started"/> again). <paramref name="mayGo"/> runs in the same
    /// transaction, the row locked: the other modules' check that none of their work is on the document now (the locks
    /// they take there last until the document is hidden).
    /// </summary>
    /// <returns>What was found, and the original's path under the data folder when the deletion goes on.</returns>
    public async Task<(DeletionStart Start, string? FilePath)> StartDeletionAsync(string id, string deletedBy,
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<bool>> mayGo, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(string State, string FilePath)?>(new CommandDefinition(
            "SELECT ingest_state, file_path FROM ingestion.original_documents WHERE id = @id FOR UPDATE", new { id }, tx, cancellationToken: ct));
        if (row is not { } found) return (DeletionStart.Unknown, null);
        switch (found.State)
        {
            case "moving": return (DeletionStart.BeingStored, null);
            case "deleting": return (DeletionStart.Started, found.FilePath);
        }
        if (!await mayGo(conn, tx, ct)) return (DeletionStart.InUse, null);
        await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE ingestion.original_documents SET ingest_state = 'deleting' WHERE id = @id;
            INSERT INTO ingestion.deletions (document_id, deleted_by) VALUES (@id, @deletedBy);
            """, new { id, deletedBy }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (DeletionStart.Started, found.FilePath);
    }

    /// <summary>
    /// The stored documents (at most <paramref name="limit"/>, those sent longest ago first) that came only by a prediction's
    /// upload, whose bytes were last sent more than <paramref name="days"/> days ago, and that have no label: none ever given
    /// (by a person, or confirmed), and no copy of their bytes refused as a duplicate at the inbox or a batch upload (which
    /// would say they were sent to be kept).
    /// </summary>
    public async Task<IReadOnlyList<string>> ExpiredUploadsAsync(int days, int limit, CancellationToken ct)
    {
        const string sql = $"""
            SELECT d.id FROM ingestion.original_documents d
            WHERE {ExpiredUpload}
            ORDER BY d.uploaded_at
            LIMIT @limit
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<string>(new CommandDefinition(sql, new { days, limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>Whether the document is still an expired upload (<see cref="ExpiredUploadsAsync"/>), read in the caller's
    /// transaction once it holds the document's row: a label, a duplicate refused or the same bytes sent again since the
    /// listing keep it.</summary>
    internal static Task<bool> IsExpiredUploadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string documentId, int days,
        CancellationToken ct)
    {
        const string sql = $"SELECT EXISTS (SELECT 1 FROM ingestion.original_documents d WHERE d.id = @documentId AND {ExpiredUpload})";
        return connection.ExecuteScalarAsync<bool>(new CommandDefinition(sql, new { documentId, days }, transaction, cancellationToken: ct));
    }

    /// <summary>The condition on <c>d</c> of <see cref="ExpiredUploadsAsync"/> (parameter <c>@days</c>).</summary>
    private const string ExpiredUpload = $"""
        d.source_folder = '{UploadFolder}' AND d.ingest_state = 'stored'
              AND d.uploaded_at < now() - make_interval(days => @days)
              AND NOT EXISTS (SELECT 1 FROM ingestion.labels l WHERE l.document_id = d.id)
              AND NOT EXISTS (SELECT 1 FROM ingestion.rejected_documents r WHERE r.sha1 = d.id)
        """;

    /// <summary>Records that a stored document's bytes were sent to be classified again now (<see cref="ExpiredUploadsAsync"/>
    /// counts from the last time).</summary>
    public async Task TouchUploadAsync(string id, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "UPDATE ingestion.original_documents SET uploaded_at = now() WHERE id = @id AND ingest_state = 'stored'", new { id }, cancellationToken: ct));
    }

    /// <summary>Where the inbox entries refused with a copy of these bytes lie (a duplicate of the document), relative to
    /// the data folder.</summary>
    public async Task<IReadOnlyList<(long Id, string Path)>> RejectedCopiesAsync(string sha1, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(long, string)>(new CommandDefinition(
            "SELECT id, rejected_path FROM ingestion.rejected_documents WHERE sha1 = @sha1 ORDER BY id", new { sha1 }, cancellationToken: ct))).AsList();
    }

    /// <summary>Removes a document hidden for its deletion, once its files are gone: the row, and with it everything
    /// derived from it (ON DELETE CASCADE), and the records of the refused copies of its bytes that were removed
    /// (<paramref name="rejectedCopies"/>); the deletion's record gets its end.</summary>
    public async Task FinishDeletionAsync(string id, IReadOnlyList<long> rejectedCopies, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            DELETE FROM ingestion.original_documents WHERE id = @id AND ingest_state = 'deleting';
            DELETE FROM ingestion.rejected_documents WHERE id = ANY(@rejectedCopies) AND sha1 = @id;
            UPDATE ingestion.deletions SET finished_at = now() WHERE document_id = @id AND finished_at IS NULL;
            """, new { id, rejectedCopies = rejectedCopies.ToArray() }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    /// <summary>The documents hidden for a deletion that has not finished (under way now, or interrupted).</summary>
    public async Task<IReadOnlyList<(string Id, string FilePath)>> ListDeletingAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(string, string)>(new CommandDefinition(
            "SELECT id, file_path FROM ingestion.original_documents WHERE ingest_state = 'deleting' ORDER BY id", cancellationToken: ct))).AsList();
    }

    /// <summary>Forgets a document whose file vanished before it reached raw/ (someone removed it from the inbox).</summary>
    public async Task DeleteMovingAsync(string id, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "DELETE FROM ingestion.original_documents WHERE id = @id AND ingest_state = 'moving'", new { id }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<KnownDocument>> ListMovingAsync(CancellationToken ct)
    {
        const string sql = """
            SELECT id, source_folder, original_name, file_path, ingest_state, ingested_at
            FROM ingestion.original_documents WHERE ingest_state = 'moving'
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<KnownDocument>(new CommandDefinition(sql, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Records a rejection at <paramref name="rejectedPath"/>. The record at a path describes what lies there now: a run
    /// that crashed before its move writes the same row again, and a path an operator emptied (rejected/invoice cleared,
    /// then another folder named invoice rejected) gets the new rejection instead of silently keeping the old one.
    /// </summary>
    public async Task AddRejectionAsync(string sourceFolder, string? fileName, string? sha1, string reasonCode, string reason,
        string rejectedPath, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO ingestion.rejected_documents (source_folder, file_name, sha1, reason_code, reason, rejected_path)
            VALUES (@sourceFolder, @fileName, @sha1, @reasonCode, @reason, @rejectedPath)
            ON CONFLICT (rejected_path) DO UPDATE SET source_folder = EXCLUDED.source_folder, file_name = EXCLUDED.file_name,
                sha1 = EXCLUDED.sha1, reason_code = EXCLUDED.reason_code, reason = EXCLUDED.reason, rejected_at = now()
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql,
            new { sourceFolder, fileName, sha1, reasonCode, reason, rejectedPath }, cancellationToken: ct));
    }

    /// <summary>Counts a start of the inspection of the file <paramref name="sha1"/>; returns the starts before this one
    /// that never finished (the process died on the file).</summary>
    public async Task<int> StartInspectionAsync(string sha1, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO ingestion.inspection_starts AS s (sha1, unfinished) VALUES (@sha1, 1)
            ON CONFLICT (sha1) DO UPDATE SET unfinished = s.unfinished + 1, last_started_at = now()
            RETURNING unfinished - 1
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int>(new CommandDefinition(sql, new { sha1 }, cancellationToken: ct));
    }

    /// <summary>Keeps the class a person gave with an upload until its inbox entry <paramref name="folder"/> is ingested
    /// (<see cref="ForgetUploadLabelAsync"/>): written before the file enters the inbox.</summary>
    public async Task AddUploadLabelAsync(string folder, IncomingLabel label, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO ingestion.upload_labels (folder, label, created_by) VALUES (@folder, @label, @createdBy)
            ON CONFLICT (folder) DO UPDATE SET label = EXCLUDED.label, created_by = EXCLUDED.created_by, created_at = now()
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql,
            new { folder, label = (short)label.Label, createdBy = label.CreatedBy ?? throw new ArgumentException("an upload's class has its giver", nameof(label)) },
            cancellationToken: ct));
    }

    /// <summary>The class given with the upload that became the inbox entry <paramref name="folder"/>, while that entry
    /// waits; null for any other entry.</summary>
    public async Task<IncomingLabel?> FindUploadLabelAsync(string folder, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(short Label, string CreatedBy)?>(new CommandDefinition(
            "SELECT label, created_by FROM ingestion.upload_labels WHERE folder = @folder", new { folder }, cancellationToken: ct));
        return row is { } r ? new IncomingLabel(r.Label, r.CreatedBy) : null;
    }

    public async Task ForgetUploadLabelAsync(string folder, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM ingestion.upload_labels WHERE folder = @folder", new { folder }, cancellationToken: ct));
    }

    /// <summary>The inbox entries of the upload classes kept since before <paramref name="before"/>.</summary>
    public async Task<IReadOnlyList<string>> ListUploadLabelFoldersAsync(DateTime before, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<string>(new CommandDefinition(
            "SELECT folder FROM ingestion.upload_labels WHERE created_at < @before ORDER BY folder", new { before }, cancellationToken: ct))).AsList();
    }

    /// <summary>The inspection of <paramref name="sha1"/> ended (whatever it found): the process survived it.</summary>
    public async Task FinishInspectionAsync(string sha1, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM ingestion.inspection_starts WHERE sha1 = @sha1", new { sha1 }, cancellationToken: ct));
    }

    /// <summary>
    /// Holds a session-level advisory lock on one inbox entry while it is processed, so two runs (two workers, or the
    /// CLI beside the scheduled job) never ingest it twice. Null when another run holds it.
    /// </summary>
    public Task<IAsyncDisposable?> TryLockEntryAsync(string entryName, CancellationToken ct) => TryLockAsync("dsdc-ingest:" + entryName, ct);

    /// <summary>Held by whoever removes a document's files (<see cref="DocumentDeletion"/>), from before they go until its
    /// row is gone: no one stores the same document again (the same file at the same paths) meanwhile.</summary>
    public Task<IAsyncDisposable> LockDeletionAsync(string documentId, CancellationToken ct) => LockAsync("dsdc-delete:" + documentId, ct);

    /// <summary>As <see cref="LockDeletionAsync"/>; null when another holds it.</summary>
    public Task<IAsyncDisposable?> TryLockDeletionAsync(string documentId, CancellationToken ct) => TryLockAsync("dsdc-delete:" + documentId, ct);

    private async Task<IAsyncDisposable?> TryLockAsync(string key, CancellationToken ct)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        bool locked;
        try
        {
            locked = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT pg_try_advisory_lock(hashtextextended(@key, 0))", new { key }, cancellationToken: ct));
        }
        catch
        {
            // A cancelled request or a failed query: the connection goes back to the pool (its reset drops a lock
            // taken just before the cancel), never left open for good.
            await conn.DisposeAsync();
            throw;
        }
        if (locked) return new EntryLock(conn, key);
        await conn.DisposeAsync();
        return null;
    }

    /// <summary>As <see cref="TryLockEntryAsync"/>, waiting for the holder instead of giving up.</summary>
    public Task<IAsyncDisposable> LockEntryAsync(string entryName, CancellationToken ct) => LockAsync("dsdc-ingest:" + entryName, ct);

    private async Task<IAsyncDisposable> LockAsync(string key, CancellationToken ct)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(hashtextextended(@key, 0))", new { key }, cancellationToken: ct));
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
        return new EntryLock(conn, key);
    }

    private sealed class EntryLock(NpgsqlConnection conn, string key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await conn.ExecuteAsync("SELECT pg_advisory_unlock(hashtextextended(@key, 0))", new { key });
            }
            finally
            {
                // Closing the session releases the lock in any case.
                await conn.DisposeAsync();
            }
        }
    }
}

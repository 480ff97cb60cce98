using Dapper;
using Npgsql;

namespace Dsdc.Pipeline;

/// <summary>
/// Per-document claims, so several workers can run the same stage at once on different documents. A claim is a
/// session-level advisory lock (stage, document) taken on a connection held for the batch: a crashed worker's claims
/// vanish with its connection, nothing to clean up. Candidates that another session holds are skipped, and what was
/// claimed is checked again under the lock, since another worker may have finished it just before.
/// </summary>
public sealed partial class StageStore
{
    // Advisory keys (classid) of the stages; the second key is the document id's first 31 bits, so two documents
    // rarely share one (and then only wait for each other's batch). Ingestion and migrations use one-key locks.
    private const int ImageClaim = 0x44530001, OcrClaim = 0x44530002, TextClaim = 0x44530003;

    private const string DocumentKey = "(('x' || substr(d.id, 1, 8))::bit(32)::int & 2147483647)";
    private const string HeldByOthers = """
        SELECT l.objid::bigint FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid = @claim::oid AND l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """;

    // A document that failed, or that a worker died on (pipeline.stage_starts), is tried again only once its last attempt is
    // RetryAfterSeconds old: a passing problem (a page render timing out on a loaded machine, too many open files, memory
    // short while something else ran) does not use up every attempt within seconds.
    private const string ImageMissing = """
        NOT EXISTS (SELECT 1 FROM pipeline.processed_images p
                        WHERE p.document_id = d.id AND p.processor = @processor AND p.processor_version = @version)
        AND NOT EXISTS (SELECT 1 FROM pipeline.stage_failures f
                        WHERE f.document_id = d.id AND f.stage = 'image' AND f.processor_version = @version
                          AND (f.attempts >= @maxAttempts OR f.last_attempt_at > now() - make_interval(secs => @retryAfterSeconds)))
        AND NOT EXISTS (SELECT 1 FROM pipeline.stage_starts s
                        WHERE s.document_id = d.id AND s.stage = 'image' AND s.processor_version = @version
                          AND s.unfinished > 0 AND s.last_started_at > now() - make_interval(secs => @retryAfterSeconds))
        """;

    // A PDF's own text layer stays valid whatever the OCR engine; OCR text from another engine version is redone.
    private const string TextMissing = """
        NOT EXISTS (SELECT 1 FROM pipeline.raw_texts r WHERE r.document_id = d.id
                        AND (r.method = 'pdf-text-layer' OR (r.processor = @processor AND r.processor_version = @version)))
        AND NOT EXISTS (SELECT 1 FROM pipeline.stage_failures f
                        WHERE f.document_id = d.id AND f.stage = 'ocr' AND f.processor_version = @version
                          AND (f.attempts >= @maxAttempts OR f.last_attempt_at > now() - make_interval(secs => @retryAfterSeconds)))
        AND NOT EXISTS (SELECT 1 FROM pipeline.stage_starts s
                        WHERE s.document_id = d.id AND s.stage = 'ocr' AND s.processor_version = @version
                          AND s.unfinished > 0 AND s.last_started_at > now() - make_interval(secs => @retryAfterSeconds))
        """;

    /// <summary>
    /// Whether no stage has claimed the document: takes its three claims for the rest of <paramref name="transaction"/>
    /// (false, and nothing to wait for, when any is held). A document hidden in that transaction (its deletion) is then
    /// never claimed again: every claim reads the stored documents, and rechecks them once it holds its lock.
    /// </summary>
    internal static Task<bool> TryHoldClaimsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string documentId, CancellationToken ct)
    {
        const string sql = """
            SELECT pg_try_advisory_xact_lock(@image, k) AND pg_try_advisory_xact_lock(@ocr, k) AND pg_try_advisory_xact_lock(@text, k)
            FROM (SELECT (('x' || substr(@documentId, 1, 8))::bit(32)::int & 2147483647) AS k) d
            """;
        return connection.ExecuteScalarAsync<bool>(new CommandDefinition(sql,
            new { documentId, image = ImageClaim, ocr = OcrClaim, text = TextClaim }, transaction, cancellationToken: ct));
    }

    /// <summary>Claims up to <paramref name="limit"/> documents without a processed image from this processor version.</summary>
    public Task<StageClaim<StoredDocument>> ClaimMissingImagesAsync(string processor, string version, int maxAttempts, int limit, CancellationToken ct,
        int retryAfterSeconds = 0)
    {
        const string claim = $"""
            WITH held AS MATERIALIZED ({HeldByOthers}),
            candidates AS MATERIALIZED (
                SELECT d.id, d.file_path, d.media_type, d.page_count, {DocumentKey} AS claim_key
                FROM ingestion.documents d
                WHERE {ImageMissing} AND {DocumentKey} NOT IN (SELECT * FROM held)
                ORDER BY d.ingested_at, d.id
                LIMIT @scan)
            SELECT id, file_path, media_type, page_count FROM candidates
            WHERE pg_try_advisory_lock(@claim, claim_key)
            LIMIT @limit
            """;
        const string recheck = $"SELECT d.id FROM ingestion.documents d WHERE d.id = ANY(@ids) AND {ImageMissing}";
        return ClaimAsync<StoredDocument>(claim, recheck, d => d.Id, ImageClaim, limit, new { processor, version, maxAttempts, retryAfterSeconds }, ct,
            (ImageStage, version, maxAttempts));
    }

    /// <summary>Claims up to <paramref name="limit"/> documents without text from a PDF text layer or this OCR version.</summary>
    public Task<StageClaim<StoredDocument>> ClaimMissingTextAsync(string processor, string version, int maxAttempts, int limit, CancellationToken ct,
        int retryAfterSeconds = 0)
    {
        const string claim = $"""
            WITH held AS MATERIALIZED ({HeldByOthers}),
            candidates AS MATERIALIZED (
                SELECT d.id, d.file_path, d.media_type, d.page_count, {DocumentKey} AS claim_key
                FROM ingestion.documents d
                WHERE {TextMissing} AND {DocumentKey} NOT IN (SELECT * FROM held)
                ORDER BY d.ingested_at, d.id
                LIMIT @scan)
            SELECT id, file_path, media_type, page_count FROM candidates
            WHERE pg_try_advisory_lock(@claim, claim_key)
            LIMIT @limit
            """;
        const string recheck = $"SELECT d.id FROM ingestion.documents d WHERE d.id = ANY(@ids) AND {TextMissing}";
        return ClaimAsync<StoredDocument>(claim, recheck, d => d.Id, OcrClaim, limit, new { processor, version, maxAttempts, retryAfterSeconds }, ct,
            (OcrStage, version, maxAttempts));
    }

    /// <summary>Claims the newest raw text of up to <paramref name="limit"/> documents with no cleaned text from this version.</summary>
    public Task<StageClaim<RawTextRow>> ClaimMissingCleanTextAsync(string processor, string version, int limit, CancellationToken ct)
    {
        const string claim = $"""
            WITH held AS MATERIALIZED ({HeldByOthers}),
            candidates AS MATERIALIZED (
                SELECT r.id, r.document_id, r.text, {DocumentKey} AS claim_key
                FROM (SELECT DISTINCT ON (document_id) id, document_id, text FROM pipeline.raw_texts ORDER BY document_id, created_at DESC, id DESC) r
                JOIN ingestion.documents d ON d.id = r.document_id
                WHERE NOT EXISTS (SELECT 1 FROM pipeline.processed_texts p
                                  WHERE p.raw_text_id = r.id AND p.processor = @processor AND p.processor_version = @version)
                  AND {DocumentKey} NOT IN (SELECT * FROM held)
                ORDER BY r.id
                LIMIT @scan)
            SELECT id, document_id, text FROM candidates
            WHERE pg_try_advisory_lock(@claim, claim_key)
            LIMIT @limit
            """;
        const string recheck = """
            SELECT r.document_id FROM pipeline.raw_texts r
            WHERE r.id = ANY(@rawIds) AND NOT EXISTS (SELECT 1 FROM pipeline.processed_texts p
                  WHERE p.raw_text_id = r.id AND p.processor = @processor AND p.processor_version = @version)
              AND EXISTS (SELECT 1 FROM ingestion.documents d WHERE d.id = r.document_id)
            """;
        return ClaimAsync<RawTextRow>(claim, recheck, r => r.DocumentId, TextClaim, limit, new { processor, version }, ct);
    }

    // A document the worker died on MaxAttempts times while working on it alone (pipeline.stage_starts, see StartAsync) becomes a stage failure that
    // has used up its attempts, with the reason; not one that another worker is on right now.
    private const string SetAsideDied = $"""
        WITH held AS MATERIALIZED ({HeldByOthers}),
        died AS (
            DELETE FROM pipeline.stage_starts s
            USING ingestion.documents d
            WHERE d.id = s.document_id AND s.stage = @stage AND s.processor_version = @version AND s.unfinished_alone >= @maxAttempts
              AND {DocumentKey} NOT IN (SELECT * FROM held)
            RETURNING s.document_id)
        INSERT INTO pipeline.stage_failures (document_id, stage, processor_version, attempts, error)
        SELECT document_id, @stage, @version, @maxAttempts, @reason FROM died
        ON CONFLICT (document_id, stage, processor_version)
        DO UPDATE SET attempts = GREATEST(pipeline.stage_failures.attempts, EXCLUDED.attempts), error = EXCLUDED.error, last_attempt_at = now()
        """;

    private async Task<StageClaim<T>> ClaimAsync<T>(string claimSql, string recheckSql, Func<T, string> documentOf, int claim, int limit,
        object args, CancellationToken ct, (string Stage, string Version, int MaxAttempts)? died = null)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            if (died is var (stage, version, maxAttempts))
                await conn.ExecuteAsync(new CommandDefinition(SetAsideDied,
                    new { claim, stage, version, maxAttempts, reason = DiedWhileOnIt(maxAttempts) }, cancellationToken: ct));
            var parameters = new DynamicParameters(args);
            parameters.AddDynamicParams(new { claim, limit, scan = limit * 2 + 16 });
            var claimed = (await conn.QueryAsync<T>(new CommandDefinition(claimSql, parameters, cancellationToken: ct))).AsList();
            if (claimed.Count > 0)
            {
                var recheck = new DynamicParameters(args);
                recheck.AddDynamicParams(new
                {
                    ids = claimed.Select(documentOf).ToArray(),
                    rawIds = claimed.OfType<RawTextRow>().Select(r => r.Id).ToArray(),
                });
                var stillMissing = (await conn.QueryAsync<string>(new CommandDefinition(recheckSql, recheck, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
                claimed = claimed.Where(c => stillMissing.Contains(documentOf(c))).ToList();
            }
            return new StageClaim<T>(conn, claimed);
        }
        catch
        {
            await conn.DisposeAsync(); // ends the session's claims with it
            throw;
        }
    }
}

/// <summary>Documents claimed for one batch of a stage; disposing releases them.</summary>
public sealed class StageClaim<T>(NpgsqlConnection connection, IReadOnlyList<T> items) : IAsyncDisposable
{
    public IReadOnlyList<T> Items => items;

    public async ValueTask DisposeAsync()
    {
        try
        {
            // The connection goes back to the pool: its session, and so its locks, would outlive this batch.
            if (connection.State == System.Data.ConnectionState.Open)
                await connection.ExecuteAsync("SELECT pg_advisory_unlock_all()");
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }
}

using Dapper;
using Dsdc.ImageProcessing;
using Dsdc.Ocr;
using Npgsql;

namespace Dsdc.Pipeline;

public sealed record StoredDocument(string Id, string FilePath, string MediaType, int PageCount)
{
    public DocumentFormat Format => MediaType switch
    {
        "image/tiff" => DocumentFormat.Tiff,
        "image/png" => DocumentFormat.Png,
        "image/jpeg" => DocumentFormat.Jpeg,
        "image/bmp" => DocumentFormat.Bmp,
        "application/pdf" => DocumentFormat.Pdf,
        _ => throw new InvalidDocumentException("unsupported-format", $"unknown media type {MediaType}"),
    };
}

public sealed record RawTextRow(long Id, string DocumentId, string Text);

/// <summary>
/// SQL of the pipeline stages: each claims what is missing for its processor version (skipping documents that failed
/// too often, see StageStore.Claims.cs), and inserts idempotently, so a stage can be re-run, resumed or run by several
/// workers at once.
/// </summary>
public sealed partial class StageStore(NpgsqlDataSource dataSource)
{
    public const string ImageStage = "image";
    public const string OcrStage = "ocr";
    public const string TextStage = "text";

    /// <summary>Inserts a processed image row unless this processor version already has one; returns the row's id either way.</summary>
    public Task<long> AddProcessedImageAsync(string documentId, string filePath, int width, int height, string processor, string version, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO pipeline.processed_images (document_id, file_path, width, height, processor, processor_version)
            VALUES (@documentId, @filePath, @width, @height, @processor, @version)
            ON CONFLICT (document_id, processor, processor_version) DO NOTHING
            RETURNING id
            """;
        const string existing = """
            SELECT id FROM pipeline.processed_images WHERE document_id = @documentId AND processor = @processor AND processor_version = @version
            """;
        return InsertOrFindAsync(sql, existing, new { documentId, filePath, width, height, processor, version }, ct);
    }

    /// <summary>Inserts a raw text row unless this processor version already has one; returns the row's id either way.</summary>
    public Task<long> AddRawTextAsync(string documentId, string text, string method, string processor, string version,
        float? meanConfidence, int durationMs, CancellationToken ct, string? readings = null)
    {
        const string sql = """
            INSERT INTO pipeline.raw_texts (document_id, text, method, processor, processor_version, mean_confidence, duration_ms, readings)
            VALUES (@documentId, @text, @method, @processor, @version, @meanConfidence, @durationMs, @readings)
            ON CONFLICT (document_id, processor, processor_version) DO NOTHING
            RETURNING id
            """;
        const string existing = """
            SELECT id FROM pipeline.raw_texts WHERE document_id = @documentId AND processor = @processor AND processor_version = @version
            """;
        return InsertOrFindAsync(sql, existing, new { documentId, text, method, processor, version, meanConfidence, durationMs, readings }, ct);
    }

    /// <summary>Stores what the OCR step made (<see cref="DocumentProcessor.ExtractTextAsync"/>); returns the row's id.</summary>
    public Task<long> AddRawTextAsync(string documentId, StepOutput<ExtractedText> made, CancellationToken ct) =>
        AddRawTextAsync(documentId, made.Value.Text, made.Value.Method, made.Processor, made.Version, made.Value.MeanConfidence,
            (int)made.Milliseconds, ct, made.Value.Readings);

    /// <summary>Inserts a cleaned text row unless this processor version already has one; returns the row's id either way.</summary>
    public Task<long> AddProcessedTextAsync(long rawTextId, string documentId, string text, string processor, string version, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO pipeline.processed_texts (raw_text_id, document_id, text, processor, processor_version)
            VALUES (@rawTextId, @documentId, @text, @processor, @version)
            ON CONFLICT (raw_text_id, processor, processor_version) DO NOTHING
            RETURNING id
            """;
        const string existing = """
            SELECT id FROM pipeline.processed_texts WHERE raw_text_id = @rawTextId AND processor = @processor AND processor_version = @version
            """;
        return InsertOrFindAsync(sql, existing, new { rawTextId, documentId, text, processor, version }, ct);
    }

    public async Task RecordFailureAsync(string documentId, string stage, string version, string error, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO pipeline.stage_failures (document_id, stage, processor_version, error)
            VALUES (@documentId, @stage, @version, @error)
            ON CONFLICT (document_id, stage, processor_version)
            DO UPDATE SET attempts = pipeline.stage_failures.attempts + 1, error = EXCLUDED.error, last_attempt_at = now()
            """;
        await ExecuteAsync(sql, new { documentId, stage, version, error = error.Length > 2000 ? error[..2000] : error }, ct);
    }

    /// <summary>The reason recorded for a document the worker died on <paramref name="times"/> times.</summary>
    public static string DiedWhileOnIt(int times) =>
        $"the worker process stopped {times} times while on this document (out of memory, a crash in the image or OCR library, " +
        "or a kill) and never finished it; set aside so that it does not take the worker down at every run. A new processor version tries again.";

    /// <summary>
    /// Counts a start of <paramref name="stage"/> on a document (<paramref name="alone"/>: with no other document of the
    /// process in flight); <see cref="FinishAsync"/> takes it back at every outcome the process lives to see. What stays
    /// counted are the times the process died while on the document (pipeline.stage_starts).
    /// </summary>
    public Task StartAsync(string documentId, string stage, string version, bool alone, CancellationToken ct) =>
        ExecuteAsync("""
            INSERT INTO pipeline.stage_starts (document_id, stage, processor_version, unfinished, unfinished_alone)
            VALUES (@documentId::bpchar, @stage, @version, 1, @aloneStarts)
            ON CONFLICT (document_id, stage, processor_version)
            DO UPDATE SET unfinished = pipeline.stage_starts.unfinished + 1,
                          unfinished_alone = pipeline.stage_starts.unfinished_alone + EXCLUDED.unfinished_alone,
                          last_started_at = now()
            """, new { documentId, stage, version, aloneStarts = alone ? 1 : 0 }, ct);

    /// <summary>Takes back a start counted by <see cref="StartAsync"/>: a stored document forgets its deaths (the row goes),
    /// a failed or cancelled start only is not one.</summary>
    public Task FinishAsync(string documentId, string stage, string version, bool alone, bool stored) =>
        ExecuteAsync(stored
            ? "DELETE FROM pipeline.stage_starts WHERE document_id = @documentId::bpchar AND stage = @stage AND processor_version = @version"
            : """
              UPDATE pipeline.stage_starts
              SET unfinished = GREATEST(unfinished - 1, 0), unfinished_alone = GREATEST(unfinished_alone - @aloneStarts, 0)
              WHERE document_id = @documentId::bpchar AND stage = @stage AND processor_version = @version
              """, new { documentId, stage, version, aloneStarts = alone ? 1 : 0 }, CancellationToken.None);

    /// <summary>Of <paramref name="ids"/>, those a worker of this stage version died on before: they are worked on alone.</summary>
    public async Task<IReadOnlySet<string>> DiedOnBeforeAsync(IReadOnlyList<string> ids, string stage, string version, CancellationToken ct)
    {
        if (ids.Count == 0) return new HashSet<string>();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var died = await conn.QueryAsync<string>(new CommandDefinition("""
            SELECT document_id FROM pipeline.stage_starts
            WHERE document_id = ANY(@ids::bpchar[]) AND stage = @stage AND processor_version = @version AND unfinished > 0
            """, new { ids = ids.ToArray(), stage, version }, cancellationToken: ct));
        return died.Select(d => d.Trim()).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Documents waiting at each stage, for progress, the dashboard and metrics: not those a stage gave up on
    /// (<paramref name="maxAttempts"/> failed attempts at this version), which the failures count holds.</summary>
    public async Task<PipelineBacklog> BacklogAsync(string imageProcessor, string imageVersion, string ocrProcessor, string ocrVersion,
        string textProcessor, string textVersion, int maxAttempts, CancellationToken ct)
    {
        const string sql = """
            SELECT
              (SELECT count(*) FROM ingestion.documents d WHERE true
                 AND NOT EXISTS (SELECT 1 FROM pipeline.processed_images p WHERE p.document_id = d.id
                                 AND p.processor = @imageProcessor AND p.processor_version = @imageVersion)
                 AND NOT EXISTS (SELECT 1 FROM pipeline.stage_failures f WHERE f.document_id = d.id AND f.stage = 'image'
                                 AND f.processor_version = @imageVersion AND f.attempts >= @maxAttempts)) AS images,
              (SELECT count(*) FROM ingestion.documents d WHERE true
                 AND NOT EXISTS (SELECT 1 FROM pipeline.raw_texts r WHERE r.document_id = d.id AND (r.method = 'pdf-text-layer'
                                 OR (r.processor = @ocrProcessor AND r.processor_version = @ocrVersion)))
                 AND NOT EXISTS (SELECT 1 FROM pipeline.stage_failures f WHERE f.document_id = d.id AND f.stage = 'ocr'
                                 AND f.processor_version = @ocrVersion AND f.attempts >= @maxAttempts)) AS ocr,
              -- As the cleaning stage claims them: each stored document's newest raw text (an older OCR version's stays, cleaned never again).
              (SELECT count(*) FROM (SELECT DISTINCT ON (document_id) id, document_id FROM pipeline.raw_texts
                                     ORDER BY document_id, created_at DESC, id DESC) r
                 JOIN ingestion.documents d ON d.id = r.document_id
                 WHERE NOT EXISTS (SELECT 1 FROM pipeline.processed_texts p
                 WHERE p.raw_text_id = r.id AND p.processor = @textProcessor AND p.processor_version = @textVersion)) AS text,
              -- The documents a stage gave up on at its current version, once each: not those still being retried, nor
              -- rows an older version left (a new version tries every document again).
              (SELECT count(DISTINCT f.document_id) FROM pipeline.stage_failures f JOIN ingestion.documents d ON d.id = f.document_id
                 WHERE f.attempts >= @maxAttempts
                   AND (f.stage = 'image' AND f.processor_version = @imageVersion OR f.stage = 'ocr' AND f.processor_version = @ocrVersion)) AS failures,
              (SELECT count(*) FROM ingestion.documents) AS documents
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<PipelineBacklog>(new CommandDefinition(sql,
            new { imageProcessor, imageVersion, ocrProcessor, ocrVersion, textProcessor, textVersion, maxAttempts }, cancellationToken: ct));
    }

    /// <summary>The inserted row's id, or (the insert did nothing: a re-run, another worker) the existing row's.</summary>
    private async Task<long> InsertOrFindAsync(string insertSql, string findSql, object args, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(insertSql, args, cancellationToken: ct))
            ?? await conn.QuerySingleAsync<long>(new CommandDefinition(findSql, args, cancellationToken: ct));
    }

    private async Task ExecuteAsync(string sql, object args, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(sql, args, cancellationToken: ct));
    }
}

public sealed record PipelineBacklog(long Images, long Ocr, long Text, long Failures, long Documents);

using Dapper;
using NpgsqlTypes;

namespace Dsdc.Training;

/// <summary>One document of a recorded training set: the label a model was trained with and the stored vector it read
/// (<c>embedding.vectors.id</c>), with whether its region features were there.</summary>
public sealed record DatasetDocument(string DocumentId, int Label, long VectorId, bool HasRegions);

/// <summary>What a run's model was fitted with for one document: its label then, or null when the document was not in the set.</summary>
public sealed record TrainedWith(long RunId, int? Label);

/// <summary>A recorded training set: what the runs that name it were fitted on.</summary>
public sealed record DatasetRecord(long Id, string Fingerprint, int Documents, string Encoder, string EncoderVersion, string RegionsVersion, DateTime CreatedAt);

public sealed partial class TrainingStore
{
    /// <summary>
    /// Records a training set, document by document, once: the same documents with the same labels, vectors and data
    /// fingerprint (another job's, after a job that failed) are the set already recorded. The rows go in by binary COPY,
    /// in one transaction with the set's own row, so a set is either whole or absent.
    /// </summary>
    /// <param name="fingerprint">the data fingerprint the runs fitted on these pages carry</param>
    /// <returns>the set's id, to name on each run fitted on it (<see cref="SetDatasetAsync"/>)</returns>
    public async Task<long> RecordDatasetAsync(string fingerprint, IReadOnlyList<LabelledPage> pages, string encoder, string encoderVersion,
        string regionsVersion, CancellationToken ct)
    {
        if (pages.Any(p => p.VectorId <= 0))
            throw new ArgumentException("every document of a recorded training set needs the id of the vector it was read from", nameof(pages));
        // The fingerprint covers what the inputs hold, not which rows hold them: a page processed again to the same text
        // and vector is another vector row, and so another set.
        var key = new System.Text.StringBuilder(fingerprint).Append('\n');
        foreach (var p in pages.OrderBy(p => p.DocumentId, StringComparer.Ordinal))
            key.Append(p.DocumentId).Append(':').Append(p.Label).Append(':').Append(p.VectorId).Append(':').Append(p.Inputs.Regions is null ? '-' : 'r').Append('\n');
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key.ToString())));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var id = await conn.ExecuteScalarAsync<long?>(new CommandDefinition("""
            INSERT INTO training.datasets (key, fingerprint, documents, encoder, encoder_version, regions_version)
            VALUES (@hash, @fingerprint, @documents, @encoder, @encoderVersion, @regionsVersion)
            ON CONFLICT (key) DO NOTHING
            RETURNING id
            """, new { hash, fingerprint, documents = pages.Count, encoder, encoderVersion, regionsVersion }, tx, cancellationToken: ct));
        if (id is not { } datasetId)
            return await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT id FROM training.datasets WHERE key = @hash",
                new { hash }, tx, cancellationToken: ct));
        await using (var import = await conn.BeginBinaryImportAsync(
            "COPY training.dataset_documents (dataset_id, document_id, label, vector_id, has_regions) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var p in pages)
            {
                await import.StartRowAsync(ct);
                await import.WriteAsync(datasetId, NpgsqlDbType.Bigint, ct);
                await import.WriteAsync(p.DocumentId, NpgsqlDbType.Char, ct);
                await import.WriteAsync((short)p.Label, NpgsqlDbType.Smallint, ct);
                await import.WriteAsync(p.VectorId, NpgsqlDbType.Bigint, ct);
                await import.WriteAsync(p.Inputs.Regions is not null, NpgsqlDbType.Boolean, ct);
            }
            await import.CompleteAsync(ct);
        }
        await tx.CommitAsync(ct);
        return datasetId;
    }

    /// <summary>Names the training set a succeeded run's model was fitted on.</summary>
    public async Task SetDatasetAsync(long runId, long datasetId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("UPDATE training.runs SET dataset_id = @datasetId WHERE id = @runId",
            new { runId, datasetId }, cancellationToken: ct));
    }

    /// <summary>The training set a run's model was fitted on, as recorded; null for a run without one (it failed, is
    /// still training, or a version before training sets were recorded trained it).</summary>
    public async Task<DatasetRecord?> DatasetOfRunAsync(long runId, CancellationToken ct)
    {
        const string sql = """
            SELECT s.id, s.fingerprint, s.documents, s.encoder, s.encoder_version, s.regions_version, s.created_at
            FROM training.runs r JOIN training.datasets s ON s.id = r.dataset_id
            WHERE r.id = @runId AND r.status = 'succeeded'
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<DatasetRecord>(new CommandDefinition(sql, new { runId }, cancellationToken: ct));
    }

    /// <summary>
    /// Whether a run's model was fitted on a document and with which label: null when the run has no recorded training
    /// set (it did not succeed, or an older version trained it), a label of null when the set does not hold the document.
    /// </summary>
    public async Task<TrainedWith?> TrainedWithAsync(long runId, string documentId, CancellationToken ct)
    {
        const string sql = """
            SELECT d.label FROM training.runs r
            LEFT JOIN training.dataset_documents d ON d.dataset_id = r.dataset_id AND d.document_id = @documentId
            WHERE r.id = @runId AND r.status = 'succeeded' AND r.dataset_id IS NOT NULL
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<short?>(new CommandDefinition(sql, new { runId, documentId }, cancellationToken: ct))).ToList();
        return rows is [var label] ? new TrainedWith(runId, label) : null;
    }

    /// <summary>Whether a run's model was fitted while some of its documents lacked their region features (its recorded
    /// training set says so); false when it has no recorded set.</summary>
    public async Task<bool> FittedWithoutRegionsAsync(long runId, CancellationToken ct)
    {
        const string sql = """
            SELECT EXISTS (SELECT 1 FROM training.runs r JOIN training.dataset_documents d ON d.dataset_id = r.dataset_id
                           WHERE r.id = @runId AND NOT d.has_regions)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(sql, new { runId }, cancellationToken: ct));
    }

    /// <summary>A recorded training set's documents, in document-id order, streamed.</summary>
    public async IAsyncEnumerable<DatasetDocument> DatasetDocumentsAsync(long datasetId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        const string sql = """
            SELECT document_id, label, vector_id, has_regions FROM training.dataset_documents
            WHERE dataset_id = @datasetId ORDER BY document_id
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var reader = await conn.ExecuteReaderAsync(new CommandDefinition(sql, new { datasetId }, cancellationToken: ct));
        while (await reader.ReadAsync(ct))
            yield return new DatasetDocument(reader.GetString(0), reader.GetInt16(1), reader.GetInt64(2), reader.GetBoolean(3));
    }
}

/// <summary>A recorded training set as CSV, the same for the API and the run's page.</summary>
public static class DatasetCsv
{
    public const string Header = "document_id,label,class,vector_id,has_regions";

    public static string FileName(long runId) => $"run-{runId}-documents.csv";

    /// <summary>Why <paramref name="run"/> has no recorded training set, in a sentence.</summary>
    public static string WhyNone(RunSummary run) => run.Status switch
    {
        "running" => $"Run {run.Id} is still training.",
        "succeeded" when run.FilesRemoved =>
            $"Run {run.Id} has no recorded training set: it went with the run's model files (only the newest Training:KeepRunFiles runs and " +
            "the recent champions, Training:KeepChampionFiles, keep them), unless a version that did not record them trained it.",
        "succeeded" => $"Run {run.Id} has no recorded training set: a version that did not record them trained it.",
        _ => $"Run {run.Id} failed: no model was fitted.",
    };

    /// <summary>Writes the header and one line per document as UTF-8 (class names hold no comma or quote).</summary>
    public static async Task WriteAsync(TrainingStore store, long datasetId, Stream output, CancellationToken ct)
    {
        await using var writer = new StreamWriter(output, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
        await WriteAsync(store, datasetId, writer, ct);
    }

    /// <exception cref="InvalidOperationException">the set holds no document: it was removed (with its runs' model files)
    /// after the caller found it, so the output stops after the header instead of passing for an empty set.</exception>
    public static async Task WriteAsync(TrainingStore store, long datasetId, TextWriter writer, CancellationToken ct)
    {
        await writer.WriteAsync(Header + "\n");
        var written = 0;
        await foreach (var d in store.DatasetDocumentsAsync(datasetId, ct))
        {
            await writer.WriteAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{d.DocumentId},{d.Label},{Shared.DocumentClasses.Names[d.Label]},{d.VectorId},{(d.HasRegions ? "true" : "false")}\n"));
            written++;
        }
        // A recorded set always holds a document; its rows are read in one statement, so it is whole or absent.
        if (written == 0) throw new InvalidOperationException($"training set {datasetId} was removed while it was being read");
        await writer.FlushAsync(ct);
    }
}

using System.Diagnostics;
using Dsdc.ImageProcessing;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Shared.Jobs;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pgvector;

namespace Dsdc.Embedding;

/// <summary>
/// The embedding stage: vectors for the documents that have a processed image and text but no vector from the
/// configured encoder yet. Driven by what is missing, so a re-run, a retry or two workers at once never duplicate rows.
/// Enqueue it as <c>jobs.Enqueue&lt;EmbeddingJob&gt;(j =&gt; j.EmbedMissingAsync(500, CancellationToken.None))</c>.
/// </summary>
public sealed partial class EmbeddingJob(
    EmbeddingStore store,
    DocumentProcessor processor,
    IOptions<EmbeddingOptions> options,
    ILogger<EmbeddingJob> logger) : IEmbeddingStage
{
    // The processor creates the encoders on first use: injecting the stage (pipeline jobs, backlog metrics) loads no model.
    private IDocumentEncoder Encoder => processor.Encoder;

    /// <summary>Embeds up to <paramref name="maxDocuments"/> documents in batches; returns how many vectors were stored.</summary>
    [Queue(JobQueues.Embedding)]
    [AutomaticRetry(Attempts = 3)]
    public Task<int> EmbedMissingAsync(int maxDocuments, CancellationToken ct) =>
        EmbedMissingAsync(maxDocuments, new HashSet<string>(StringComparer.Ordinal), ct);

    public async Task<int> EmbedMissingAsync(int maxDocuments, HashSet<string> unreadable, CancellationToken ct)
    {
        int stored = 0, attempted = 0;
        // Documents whose image cannot be read are skipped for the rest of this run, so they cannot block the others, and
        // counted: after three runs the stage gives up on them (embedding.features_given_up).
        while (attempted < maxDocuments)
        {
            var limit = Math.Min(options.Value.BatchSize, maxDocuments - attempted);
            var pending = await store.PendingAsync(Encoder.Id, Encoder.Version, limit, unreadable, ct);
            if (pending.Count == 0) break;
            attempted += pending.Count;

            var watch = Stopwatch.StartNew();
            var inputs = new List<(PendingDocument Doc, EncoderInput Input)>(pending.Count);
            foreach (var doc in pending)
            {
                try
                {
                    inputs.Add((doc, new EncoderInput(processor.ReadProcessedImage(processor.DataPath(doc.ImagePath)), doc.Text)));
                }
                // What the document's file causes (missing, a damaged PNG: InvalidDataException; a conversion Leptonica
                // refuses: InvalidOperationException), not what the machine does (a full volume, memory): those fail the
                // job, which is tried again, instead of counting against the document; nor anything else (the runtime,
                // the database, a bug), which must not give up every document of a batch.
                catch (Exception ex) when (IsFileProblem(ex))
                {
                    unreadable.Add(doc.DocumentId);
                    LogUnreadable(doc.DocumentId, doc.ImagePath, ex.Message);
                    Pipeline.PipelineMetrics.StageDocuments.WithLabels("embedding", "failed").Inc();
                    // Counted, so that after three runs the stage gives up on it instead of queueing it forever.
                    var (kind, version) = EmbeddingStore.VectorFailureKey(Encoder.Id, Encoder.Version, doc.ProcessedImageId);
                    await store.RecordFeatureFailureAsync(doc.DocumentId, kind, version, $"{ex.GetType().Name}: {ex.Message}", ct);
                }
            }
            var vectors = processor.EncodeBatch(inputs.Select(i => i.Input).ToList(), ct);
            var rows = inputs.Select((item, n) => new NewEmbedding(item.Doc.DocumentId, item.Doc.ProcessedImageId,
                item.Doc.ProcessedTextId, Encoder.Id, Encoder.Version, Encoder.Dimensions, new Vector(vectors[n]))).ToList();
            var inserted = await store.AddAsync(rows, ct, storedOnly: true);
            stored += inserted;
            LogBatch(inserted, Encoder.Id, watch.ElapsedMilliseconds);
        }
        return stored;
    }

    /// <summary>An exception the document's stored file causes, which counts towards giving the document up.</summary>
    private static bool IsFileProblem(Exception ex) =>
        ex is IOException or UnauthorizedAccessException or InvalidDocumentException or ArgumentException or InvalidDataException or InvalidOperationException
        && Pipeline.PipelineStages.IsDocumentProblem(ex);

    /// <summary>
    /// The <c>regions</c> page features of embedded documents that lack them, from the stored original (the first page
    /// at a higher resolution than the 224x224 processed image): what the classifier's region view reads.
    /// A document whose original cannot be read is skipped for the rest of the run and its failure counted; after three
    /// failures the stage gives up on it (embedding.features_given_up). Returns how many rows were stored.
    /// </summary>
    [Queue(JobQueues.Embedding)]
    [AutomaticRetry(Attempts = 3)]
    public Task<int> AddPageFeaturesAsync(int maxDocuments, CancellationToken ct) =>
        AddPageFeaturesAsync(maxDocuments, new HashSet<string>(StringComparer.Ordinal), ct);

    public async Task<int> AddPageFeaturesAsync(int maxDocuments, HashSet<string> failed, CancellationToken ct)
    {
        int done = 0, added = 0;
        while (done < maxDocuments)
        {
            var pending = await store.PendingFeaturesAsync(RegionEncoder.Kind, processor.RegionsVersion, Math.Min(options.Value.BatchSize, maxDocuments - done), failed, ct);
            if (pending.Count == 0) break;
            done += pending.Count;
            var watch = Stopwatch.StartNew();
            var batchAdded = 0;
            foreach (var (id, file, mediaType) in pending)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    var made = processor.EncodeRegions(processor.DataPath(file), MediaTypes.ToFormat(mediaType), ct);
                    if (await store.AddFeaturesAsync(id, made.Processor, made.Version, made.Value, ct, storedOnly: true))
                        batchAdded++;
                }
                // As for the vectors: a full volume (mutool's output under /tmp), a renderer that cannot run or was killed,
                // memory, the runtime or the database fail the job instead of counting towards giving the features up.
                catch (Exception ex) when (IsFileProblem(ex))
                {
                    failed.Add(id);
                    LogUnreadable(id, file, ex.Message);
                    Pipeline.PipelineMetrics.StageDocuments.WithLabels("embedding", "failed").Inc();
                    // Counted, so that after three runs the stage gives up on it and training stops waiting for it.
                    await store.RecordFeatureFailureAsync(id, RegionEncoder.Kind, processor.RegionsVersion, $"{ex.GetType().Name}: {ex.Message}", ct);
                }
            }
            added += batchAdded;
            LogBatch(batchAdded, RegionEncoder.Kind, watch.ElapsedMilliseconds);
        }
        return added;
    }

    public Task<long> CountMissingAsync(CancellationToken ct) => store.CountPendingAsync(Encoder.Id, Encoder.Version, ct);

    public Task<long> CountMissingFeaturesAsync(CancellationToken ct) => store.CountPendingFeaturesAsync(RegionEncoder.Kind, processor.RegionsVersion, ct);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded {Count} documents with {Encoder} in {ElapsedMs} ms")]
    private partial void LogBatch(int count, string encoder, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping document {DocumentId}: processed image {Path} unreadable: {Reason}")]
    private partial void LogUnreadable(string documentId, string path, string reason);
}

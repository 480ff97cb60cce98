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
    IDocumentEncoder encoder,
    EmbeddingStore store,
    IImagePreprocessor images,
    DsdcPaths paths,
    IOptions<EmbeddingOptions> options,
    ILogger<EmbeddingJob> logger) : IEmbeddingStage
{
    /// <summary>Embeds up to <paramref name="maxDocuments"/> documents in batches; returns how many vectors were stored.</summary>
    [Queue(JobQueues.Embedding)]
    [AutomaticRetry(Attempts = 3)]
    public async Task<int> EmbedMissingAsync(int maxDocuments, CancellationToken ct)
    {
        int stored = 0, attempted = 0;
        // Documents whose image cannot be read are skipped for the rest of this run, so they cannot block the others.
        var unreadable = new HashSet<string>(StringComparer.Ordinal);
        while (attempted < maxDocuments)
        {
            var limit = Math.Min(options.Value.BatchSize, maxDocuments - attempted);
            var pending = await store.PendingAsync(encoder.Id, encoder.Version, limit, unreadable, ct);
            if (pending.Count == 0) break;
            attempted += pending.Count;

            var watch = Stopwatch.StartNew();
            var inputs = new List<(PendingDocument Doc, EncoderInput Input)>(pending.Count);
            foreach (var doc in pending)
            {
                try
                {
                    var rgb = images.ReadProcessed(Path.Combine(paths.DataDir, doc.ImagePath));
                    inputs.Add((doc, new EncoderInput(RgbImage.FromProcessed(rgb), doc.Text)));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDocumentException or ArgumentException)
                {
                    unreadable.Add(doc.DocumentId);
                    LogUnreadable(doc.DocumentId, doc.ImagePath, ex.Message);
                }
            }
            var vectors = encoder.EmbedBatch(inputs.Select(i => i.Input).ToList(), ct);
            var rows = inputs.Select((item, n) => new NewEmbedding(item.Doc.DocumentId, item.Doc.ProcessedImageId,
                item.Doc.ProcessedTextId, encoder.Id, encoder.Version, encoder.Dimensions, new Vector(vectors[n]))).ToList();
            var inserted = await store.AddAsync(rows, ct);
            stored += inserted;
            LogBatch(inserted, encoder.Id, watch.ElapsedMilliseconds);
        }
        return stored;
    }

    public Task<long> CountMissingAsync(CancellationToken ct) => store.CountPendingAsync(encoder.Id, encoder.Version, ct);

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded {Count} documents with {Encoder} in {ElapsedMs} ms")]
    private partial void LogBatch(int count, string encoder, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping document {DocumentId}: processed image {Path} unreadable: {Reason}")]
    private partial void LogUnreadable(string documentId, string path, string reason);
}

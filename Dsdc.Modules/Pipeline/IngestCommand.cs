using System.Diagnostics;
using Dsdc.Ingestion;
using Dsdc.Shared;
using Dsdc.Shared.Cli;

namespace Dsdc.Pipeline;

/// <summary><c>ingest</c>: the whole pipeline, synchronously, until the inbox is empty; progress on standard error.</summary>
internal sealed class IngestCommand(PipelineRunner runner, InboxIngestor ingestor, PipelineStages stages, DsdcPaths paths) : ICliCommand
{
    public string Name => "ingest";
    public IReadOnlyList<string> Options => [];
    public string Usage => "process data/to_ingest until it is empty (ingest, OCR, text, image, embeddings)";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var waiting = ingestor.CountWaiting();
        var backlog = await stages.BacklogAsync(ct);
        var total = waiting + (int)Math.Max(backlog.Ocr, backlog.Images);
        Console.Error.WriteLine($"Inbox {paths.Inbox}: {waiting} waiting; {backlog.Ocr} stored document(s) still need OCR.");

        var watch = Stopwatch.StartNew();
        var lastPrint = TimeSpan.Zero;
        var progress = new SyncProgress<PipelineProgress>(p =>
        {
            if (watch.Elapsed - lastPrint < TimeSpan.FromSeconds(2)) return;
            lastPrint = watch.Elapsed;
            var done = Math.Max(p.Texts, 0) + p.Rejected;
            var rate = done / Math.Max(watch.Elapsed.TotalSeconds, 0.001);
            var eta = rate > 0 && total > done ? TimeSpan.FromSeconds((total - done) / rate).ToString(@"hh\:mm\:ss") : "--:--:--";
            Console.Error.WriteLine($"[{watch.Elapsed:hh\\:mm\\:ss}] ingested {p.Ingested}, rejected {p.Rejected}, images {p.Images}, " +
                $"text {p.Texts}, cleaned {p.Cleaned}, embedded {p.Embedded}, failed {p.Failed} | {rate:F2} docs/s, ETA {eta}");
        });

        var (summary, totals) = await runner.RunUntilEmptyAsync(progress, ct);
        var seconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"Ingestion: {summary}.");
        Console.WriteLine($"Pipeline: {totals.Images} image(s), {totals.Texts} text(s) extracted, {totals.Cleaned} cleaned, " +
            $"{totals.Embedded} embedded, {totals.Failed} failure(s) in {seconds:F1} s " +
            $"({(totals.Ingested + totals.Rejected) / Math.Max(seconds, 0.001):F2} documents/s).");
        if (totals.EmbeddingsLeft)
        {
            Console.Error.WriteLine($"Embeddings not computed: another process held the embedding jobs' lock for {PipelineRunner.EmbeddingLockWait.TotalMinutes:0} " +
                "minutes. The pipeline's embedding jobs compute them; or run ingest again once that process is done.");
            return 1;
        }
        return 0;
    }

    /// <summary>Reports on the calling thread, unlike Progress&lt;T&gt;, which would post to the thread pool.</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        private readonly Lock _gate = new();

        public void Report(T value)
        {
            lock (_gate) report(value);
        }
    }
}

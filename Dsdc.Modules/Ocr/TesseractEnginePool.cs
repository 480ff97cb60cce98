using System.Collections.Concurrent;
using Dsdc.ImageProcessing;
using Dsdc.Ocr.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Ocr;

/// <summary>
/// At most <see cref="OcrOptions.EffectiveConcurrency"/> engines, each lent to one caller (so one thread) at a time.
/// Engines are created on first need and kept: creating one costs about as much as OCR-ing three pages. A page that
/// runs past twice <see cref="OcrOptions.PageTimeoutSeconds"/> (Tesseract's layout analysis, which its deadline does not
/// reach) is given up: its caller gets the document's refusal at once and the slot is free again (while fewer such
/// engines than the pool's size run on), while the engine's thread runs on until Tesseract returns, then ends and
/// disposes of the engine (<see cref="OcrMetrics"/>).
/// </summary>
/// <remarks>The options are read on first use, not when the pool is built: reading them validates them, which starts an
/// engine (<c>OcrModule</c>'s check), and the usage text (<c>help</c>) builds every command, and so this pool, on a
/// machine that may not have Tesseract yet.</remarks>
internal sealed class TesseractEnginePool(IOptions<OcrOptions> options, ILogger<TesseractEnginePool> logger) : IDisposable
{
    private readonly Lazy<SemaphoreSlim> _slotsOnce = new(() => new SemaphoreSlim(options.Value.EffectiveConcurrency, options.Value.EffectiveConcurrency));
    private OcrOptions Options => options.Value;
    private SemaphoreSlim Slots => _slotsOnce.Value;
    private readonly ConcurrentBag<TesseractEngine> _idle = [];
    private int _created;
    private int _runningOn; // engines given up whose thread still runs
    private volatile bool _disposed;

    public int Size => Options.EffectiveConcurrency;

    /// <summary>How often a caller looks whether its engine's page has run past twice the deadline.</summary>
    private static readonly TimeSpan WatchEvery = TimeSpan.FromMilliseconds(250);

    /// <summary>Waits for a free engine; runs <paramref name="work"/> with it on a thread-pool thread.</summary>
    /// <exception cref="InvalidDocumentException">(<see cref="Refusal.OcrFailed"/>) a page ran past twice the page deadline.</exception>
    public async Task<T> RunAsync<T>(Func<TesseractEngine, T> work, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await Slots.WaitAsync(ct);
        var releaseSlot = true;
        try
        {
            // The engine while its work runs; whoever takes it out first owns it: the work's end (the engine goes back to
            // the pool) or the watch below (the engine is given up, and disposed of when its work ends).
            TesseractEngine? lent = null;
            var running = Task.Run(() =>
            {
                var engine = _idle.TryTake(out var idle) ? idle : Create();
                Volatile.Write(ref lent, engine);
                try
                {
                    return work(engine);
                }
                finally
                {
                    if (Interlocked.Exchange(ref lent, null) == engine) Return(engine);
                    else engine.Dispose(); // given up: its caller has gone, and its slot is another engine's
                }
            }, ct);
            // No exception marks the watch's turns: the work's own exceptions (a TimeoutException too) reach the caller as they are.
            while (!running.IsCompleted)
            {
                await Task.WhenAny(running, Task.Delay(WatchEvery, CancellationToken.None));
                if (!running.IsCompleted && Volatile.Read(ref lent) is { } engine && engine.IsOverdue(Environment.TickCount64)
                    && Interlocked.CompareExchange(ref lent, null, engine) == engine)
                    throw GiveUp(engine, running, out releaseSlot);
            }
            return await running;
        }
        finally
        {
            if (releaseSlot) Slots.Release();
        }
    }

    /// <summary>
    /// The engine's page ran past twice the deadline: the engine is given up (its thread ends once Tesseract returns, and
    /// the engine is disposed of), and the document refused. Its slot is free at once while fewer given-up engines than
    /// the pool's size still run, so other documents go on; beyond that the slot comes back only when the thread ends, so
    /// pages Tesseract cannot stop never hold more than twice the pool's cores.
    /// </summary>
    private InvalidDocumentException GiveUp<T>(TesseractEngine engine, Task<T> running, out bool releaseSlot)
    {
        engine.GivenUp = true;
        releaseSlot = Interlocked.Increment(ref _runningOn) <= Size;
        var slotHeld = !releaseSlot;
        OcrMetrics.PagesGivenUp.Inc();
        OcrMetrics.EnginesRunningOn.Inc();
        _ = running.ContinueWith(t =>
        {
            _ = t.Exception; // its refusal, observed: nobody waits for it now
            Interlocked.Decrement(ref _runningOn);
            OcrMetrics.EnginesRunningOn.Dec();
            if (slotHeld) Slots.Release();
            logger.LogWarning("A Tesseract engine given up on a page returned after all; its thread has ended");
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var limit = engine.PageTimeout.TotalSeconds;
        logger.LogError(
            "OCR of a page ran past twice its deadline ({Seconds} s): Tesseract's layout analysis, which the deadline does not " +
            "reach, goes on in the background on a thread of its own until it returns; the document is refused" +
            (releaseSlot ? " and its slot given to the next" : ", and its slot waits for that thread (as many given-up engines run on as the pool has)"),
            2 * limit);
        return Refusal.Of(Refusal.OcrFailed,
            $"OCR of a page did not finish within twice its deadline of {limit:0.###} s ({OcrOptions.Section}:{nameof(OcrOptions.PageTimeoutSeconds)}): " +
            "Tesseract's analysis of the page's layout (its columns and blocks) takes too long on this page.");
    }

    private TesseractEngine Create()
    {
        // 1 unless something loaded libgomp before Tesseract did; then each engine runs several threads per page.
        var threadLimit = NativeRuntime.EnsureTesseractLoaded();
        if (threadLimit != 1)
            logger.LogWarning("OpenMP runs Tesseract with a thread limit of {ThreadLimit}, not 1: libgomp was loaded before libtesseract", threadLimit);
        var engine = TesseractEngine.Create(Options);
        _ = OcrMetrics.PagesGivenUp; // publishes the pool's metrics (at 0) from its first engine on
        var count = Interlocked.Increment(ref _created);
        logger.LogInformation("Tesseract engine {EngineNumber} of {PoolSize} ready ({Languages})", count, Size, Options.Languages);
        return engine;
    }

    private void Return(TesseractEngine engine)
    {
        _idle.Add(engine);
        // Dispose may have drained the bag between the caller's work and this Add.
        if (_disposed) DisposeIdle();
    }

    private void DisposeIdle()
    {
        while (_idle.TryTake(out var engine)) engine.Dispose();
    }

    public void Dispose()
    {
        _disposed = true;
        DisposeIdle();
        // Slots is not disposed: a caller still waiting on it would get ObjectDisposedException instead of its answer.
    }
}

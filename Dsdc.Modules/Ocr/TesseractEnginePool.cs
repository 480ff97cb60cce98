using System.Collections.Concurrent;
using Dsdc.Ocr.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Ocr;

/// <summary>
/// At most <see cref="OcrOptions.EffectiveConcurrency"/> engines, each lent to one caller (so one thread) at a time.
/// Engines are created on first need and kept: creating one costs about as much as OCR-ing three pages.
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
    private volatile bool _disposed;

    public int Size => Options.EffectiveConcurrency;

    /// <summary>Waits for a free engine; runs <paramref name="work"/> with it on a thread-pool thread.</summary>
    public async Task<T> RunAsync<T>(Func<TesseractEngine, T> work, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await Slots.WaitAsync(ct);
        try
        {
            return await Task.Run(() =>
            {
                var engine = _idle.TryTake(out var idle) ? idle : Create();
                try
                {
                    return work(engine);
                }
                finally
                {
                    Return(engine);
                }
            }, ct);
        }
        finally
        {
            Slots.Release();
        }
    }

    private TesseractEngine Create()
    {
        // 1 unless something loaded libgomp before Tesseract did; then each engine runs several threads per page.
        var threadLimit = NativeRuntime.EnsureTesseractLoaded();
        if (threadLimit != 1)
            logger.LogWarning("OpenMP runs Tesseract with a thread limit of {ThreadLimit}, not 1: libgomp was loaded before libtesseract", threadLimit);
        var engine = TesseractEngine.Create(Options);
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

using System.Collections.Concurrent;
using Dsdc.Ocr.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Ocr;

/// <summary>
/// At most <see cref="OcrOptions.EffectiveConcurrency"/> engines, each lent to one caller (so one thread) at a time.
/// Engines are created on first need and kept: creating one costs about as much as OCR-ing three pages.
/// </summary>
internal sealed class TesseractEnginePool(IOptions<OcrOptions> options, ILogger<TesseractEnginePool> logger) : IDisposable
{
    private readonly OcrOptions _options = options.Value;
    private readonly SemaphoreSlim _slots = new(options.Value.EffectiveConcurrency, options.Value.EffectiveConcurrency);
    private readonly ConcurrentBag<TesseractEngine> _idle = [];
    private int _created;
    private volatile bool _disposed;

    public int Size => _options.EffectiveConcurrency;

    /// <summary>Waits for a free engine; runs <paramref name="work"/> with it on a thread-pool thread.</summary>
    public async Task<T> RunAsync<T>(Func<TesseractEngine, T> work, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _slots.WaitAsync(ct);
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
            _slots.Release();
        }
    }

    private TesseractEngine Create()
    {
        // 1 unless something loaded libgomp before Tesseract did; then each engine runs several threads per page.
        var threadLimit = NativeRuntime.EnsureTesseractLoaded();
        if (threadLimit != 1)
            logger.LogWarning("OpenMP runs Tesseract with a thread limit of {ThreadLimit}, not 1: libgomp was loaded before libtesseract", threadLimit);
        var engine = TesseractEngine.Create(_options);
        var count = Interlocked.Increment(ref _created);
        logger.LogInformation("Tesseract engine {EngineNumber} of {PoolSize} ready ({Languages})", count, Size, _options.Languages);
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
        // _slots is not disposed: a caller still waiting on it would get ObjectDisposedException instead of its answer.
    }
}

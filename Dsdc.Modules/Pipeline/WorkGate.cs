namespace Dsdc.Pipeline;

/// <summary>
/// Who works beside whom among this process's image and OCR stage work: documents of every such job go through side by
/// side, while a document the process died on before goes alone: none starts meanwhile, and it starts once those in
/// flight are done. A death during its work is then most likely its own, not one of the documents beside it
/// (<see cref="StageStore.StartAsync"/>). The embedding stage, ingestion, training and predictions are not held back.
/// </summary>
internal static class WorkGate
{
    private static readonly SemaphoreSlim Door = new(1, 1);
    private static int _inFlight;

    /// <summary>Enters beside the others (waits only while a document works alone); disposing leaves.</summary>
    public static async Task<IDisposable> BesideOthersAsync(CancellationToken ct)
    {
        await Door.WaitAsync(ct);
        Interlocked.Increment(ref _inFlight);
        Door.Release();
        return new Leave(() => Interlocked.Decrement(ref _inFlight));
    }

    /// <summary>Enters alone: keeps the others out, then waits for those in flight to finish; disposing lets them in.</summary>
    public static async Task<IDisposable> AloneAsync(CancellationToken ct)
    {
        await Door.WaitAsync(ct);
        try
        {
            while (Volatile.Read(ref _inFlight) > 0) await Task.Delay(50, ct);
        }
        catch
        {
            Door.Release();
            throw;
        }
        return new Leave(() => Door.Release());
    }

    private sealed class Leave(Action leave) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0) leave();
        }
    }
}

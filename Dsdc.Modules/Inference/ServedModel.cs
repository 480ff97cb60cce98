using Dsdc.Training;

namespace Dsdc.Inference;

/// <summary>
/// One loaded champion with a reference count: the host holds one reference, each call leases one. Retiring drops
/// the host's reference, and its sessions are disposed when the last in-flight call returns its lease.
/// </summary>
internal sealed class ServedModel(ViewEnsembleRunner model, ChampionModel champion)
{
    private int _references = 1;

    public ViewEnsembleRunner Model => model;
    public ChampionModel Champion => champion;

    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current == 0) return false;
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current) return true;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0) model.Dispose();
    }
}

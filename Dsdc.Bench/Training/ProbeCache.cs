namespace Dsdc.Training;

/// <summary>The probes' cache files: computed once for the labelled pages, then read back.</summary>
internal static class ProbeCache
{
    /// <summary>The cache read back, once it is known to hold every labelled page; a cache made for other pages (another
    /// corpus, documents ingested since) is refused with a plain message rather than failing halfway through.</summary>
    public static Dictionary<string, T> Covering<T>(Dictionary<string, T> cached, IReadOnlyList<LabelledPage> docs, string file)
    {
        var missing = docs.Count(d => !cached.ContainsKey(d.DocumentId));
        if (missing > 0)
            throw new InvalidOperationException($"{file} was made for other documents ({missing} of the {docs.Count} labelled pages are not in it): delete it to compute it again.");
        return cached;
    }
}

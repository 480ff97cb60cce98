using System.Diagnostics;
using Dsdc.Ingestion;
using Microsoft.Extensions.Logging;

namespace Dsdc.Inference;

/// <summary>
/// The classes that some stored document is labelled with now. A served model knows the classes it was trained on; when
/// a correction takes the last label away from one of them, serving stops predicting that class at once in the process
/// that wrote the label, and in the others at their next reload check (<see cref="InferenceOptions.ReloadIntervalSeconds"/>),
/// not only after the next training job: a class with no label is never predicted.
/// </summary>
public sealed partial class LabelledClasses(DocumentStore documents, ILogger<LabelledClasses> logger)
{
    /// <summary>The classes read, and when the read began (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    private sealed record Snapshot(IReadOnlySet<int> Classes, long ReadAt);

    private readonly Lock _gate = new();

    private volatile Snapshot? _snapshot;

    /// <summary>The labelled classes as last read; null before the first read (every class the model knows is served).</summary>
    public IReadOnlySet<int>? Current => _snapshot?.Classes;

    /// <summary>
    /// Reads them again. Of two reads that overlap, the one that began last is kept, whichever ends last: a read begun
    /// before a correction was saved never replaces one begun after it. When the database cannot be read, the last read
    /// stays (said in the log).
    /// </summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        try
        {
            var began = Stopwatch.GetTimestamp();
            var classes = await documents.LabelledClassesAsync(ct);
            var read = new Snapshot(classes.ToHashSet(), began);
            lock (_gate)
                if (_snapshot is not { } kept || kept.ReadAt < began) _snapshot = read;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogUnread(ex.Message);
        }
    }

    /// <summary>As <see cref="RefreshAsync"/>, unless the last read is younger than <paramref name="interval"/>.</summary>
    public Task RefreshIfDueAsync(TimeSpan interval, CancellationToken ct) =>
        _snapshot is { } s && Stopwatch.GetElapsedTime(s.ReadAt) < interval ? Task.CompletedTask : RefreshAsync(ct);

    /// <summary>
    /// The classes of <paramref name="known"/> (a model's, in order) that serving may predict: those still labelled. All
    /// of them when nothing was read yet, or when none is labelled (only a database emptied by hand gets there): a model
    /// is never left without a class to answer.
    /// </summary>
    public static IReadOnlyList<int> Servable(IReadOnlyList<int> known, IReadOnlySet<int>? labelled)
    {
        if (labelled is null) return known;
        var kept = known.Where(labelled.Contains).ToList();
        return kept.Count == 0 || kept.Count == known.Count ? known : kept;
    }

    /// <summary>
    /// <paramref name="probabilities"/> with the classes outside <paramref name="servable"/> at 0 and the rest scaled to sum
    /// to 1 (in proportion, so their order is kept); uniform over them when the removed classes held all of it.
    /// </summary>
    public static float[] Restrict(IReadOnlyList<float> probabilities, IReadOnlyList<int> servable)
    {
        var restricted = new float[probabilities.Count];
        var sum = servable.Sum(c => (double)probabilities[c]);
        foreach (var c in servable) restricted[c] = sum > 0 ? (float)(probabilities[c] / sum) : 1f / servable.Count;
        return restricted;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The labelled classes could not be read ({Reason}); serving keeps the last ones read")]
    private partial void LogUnread(string reason);
}

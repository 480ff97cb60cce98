namespace Dsdc.Ingestion;

/// <summary>What happened to one inbox entry.</summary>
/// <param name="DocumentId">Accepted: the new document's id. Rejected as a duplicate: the id of the known document it
/// repeats. Otherwise null.</param>
public sealed record IngestionOutcome(string Folder, IngestionOutcomeKind Kind, string? DocumentId, string? ReasonCode, string? Reason);

public enum IngestionOutcomeKind
{
    Accepted,
    Rejected,
    /// <summary>Still being written, or another run holds it: left for the next run.</summary>
    Deferred,
}

public sealed class IngestionSummary
{
    public int Accepted { get; private set; }
    public int Deferred { get; private set; }
    public int Recovered { get; internal set; }
    public Dictionary<string, int> RejectedByReason { get; } = new(StringComparer.Ordinal);
    public int Rejected => RejectedByReason.Values.Sum();

    internal void Add(IngestionOutcome outcome)
    {
        switch (outcome.Kind)
        {
            case IngestionOutcomeKind.Accepted: Accepted++; break;
            case IngestionOutcomeKind.Deferred: Deferred++; break;
            default:
                var code = outcome.ReasonCode ?? "unknown";
                RejectedByReason[code] = RejectedByReason.GetValueOrDefault(code) + 1;
                break;
        }
    }

    public void Merge(IngestionSummary other)
    {
        Accepted += other.Accepted;
        Deferred = other.Deferred; // what is still deferred now, not a running total
        Recovered += other.Recovered;
        foreach (var (code, n) in other.RejectedByReason)
            RejectedByReason[code] = RejectedByReason.GetValueOrDefault(code) + n;
    }

    public override string ToString() =>
        $"{Accepted} accepted, {Rejected} rejected" +
        (Rejected > 0 ? " (" + string.Join(", ", RejectedByReason.OrderBy(r => r.Key).Select(r => $"{r.Key}: {r.Value}")) + ")" : "") +
        (Deferred > 0 ? $", {Deferred} deferred" : "") + (Recovered > 0 ? $", {Recovered} recovered after an interruption" : "");
}

/// <summary>Why an inbox folder is refused; the folder goes to rejected/ with this reason.</summary>
internal sealed class RejectionException(string reasonCode, string message) : Exception(message)
{
    public string ReasonCode { get; } = reasonCode;

    /// <summary>For a duplicate: the known document it repeats.</summary>
    public string? KnownDocumentId { get; init; }
}

namespace Dsdc.Ingestion;

/// <summary>
/// The rule that decides a document's current label, in one place for every query that needs it: the newest human
/// label wins over the dataset's label (<c>labels</c> accumulate; nothing is overwritten).
/// </summary>
public static class CurrentLabel
{
    /// <summary>ORDER BY of a document's <c>labels</c> rows that puts its current label first.</summary>
    public const string Order = "(source = 'human') DESC, created_at DESC, id DESC";

    /// <summary>
    /// A lateral join giving alias <c>cl</c> (label, source, created_by, created_at) for the document aliased <c>d</c>;
    /// put <c>LEFT</c> before it to keep unlabelled documents.
    /// </summary>
    public const string JoinOnDocument = "JOIN LATERAL (SELECT label, source, created_by, created_at FROM labels WHERE document_id = d.id ORDER BY " +
        Order + " LIMIT 1) cl ON true";
}

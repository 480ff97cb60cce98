namespace Dsdc.Ingestion;

/// <summary>
/// A document's current label: the newest human label wins over the dataset's label (<c>labels</c> accumulate; nothing
/// is overwritten). The rule itself is written once, in Ingestion's published view <c>ingestion.current_labels</c>
/// (migration 0012); every query that needs a current label, in any module, reads that view.
/// </summary>
public static class CurrentLabel
{
    /// <summary>The published view: one row per labelled document (document_id, label, source, created_by, created_at).</summary>
    public const string View = "ingestion.current_labels";

    /// <summary>
    /// A join giving alias <c>cl</c> (label, source, created_by, created_at) for the document aliased <c>d</c>;
    /// put <c>LEFT</c> before it to keep unlabelled documents. Lateral, so that the document's id reaches the view's
    /// DISTINCT ON (an index scan of that document's labels) instead of ranking every label for one page of documents.
    /// </summary>
    public const string JoinOnDocument =
        "JOIN LATERAL (SELECT c.label, c.source, c.created_by, c.created_at FROM " + View + " c WHERE c.document_id = d.id) cl ON true";
}

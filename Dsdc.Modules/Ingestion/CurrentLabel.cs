namespace Dsdc.Ingestion;

/// <summary>
/// A document's current label: the newest human label wins over the dataset's label (<c>labels</c> accumulate; nothing
/// is overwritten). The rule itself is written once, in Ingestion's published view <c>ingestion.current_labels</c>
/// (migration 0012); every query that needs a current label, in any module, reads that view.
/// </summary>
public static class CurrentLabel
{
    /// <summary>The published view: one row per labelled document (document_id, label, source, created_by, created_at, and the
    /// label row's id: migration 0023).</summary>
    public const string View = "ingestion.current_labels";

    /// <summary>
    /// A join giving alias <c>cl</c> (id, label, source, created_by, created_at) for the document aliased <c>d</c>;
    /// put <c>LEFT</c> before it to keep unlabelled documents. PostgreSQL is free to plan it as a hash join of every
    /// current label (it does when the documents are many and their order is not an index's), which suits a count over
    /// all documents; for a page of documents use <see cref="LookupOnDocument"/>.
    /// </summary>
    public const string JoinOnDocument =
        "JOIN LATERAL (SELECT c.id, c.label, c.source, c.created_by, c.created_at FROM " + View + " c WHERE c.document_id = d.id) cl ON true";

    /// <summary>
    /// The same join, read for each document on its own: the <c>LIMIT 1</c> (the view has one row per document anyway) keeps
    /// the subquery from being pulled up, so the document's id reaches the view's DISTINCT ON and each label is one index
    /// lookup. For pages of documents: the documents list's first page at 100,000 documents reads in 0.7-2.4 ms where the
    /// hash join of every current label took 198-229 ms (docs/benchmarks.md, "The documents list at 100,000 documents").
    /// </summary>
    public const string LookupOnDocument =
        "JOIN LATERAL (SELECT c.id, c.label, c.source, c.created_by, c.created_at FROM " + View + " c WHERE c.document_id = d.id LIMIT 1) cl ON true";
}

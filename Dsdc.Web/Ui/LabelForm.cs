using Dsdc.Ingestion;
using Dsdc.Shared;

namespace Dsdc.Web.Ui;

/// <summary>
/// The answer to a label form guarded by the label the page showed (a prediction's page, a document's page): what to
/// tell the person, and whether the page is shown again (a colleague labelled the document after it was opened: the
/// newer label is shown, with the person's class still selected) or left by a redirect.
/// </summary>
public static class LabelForm
{
    /// <summary>The time of the person's label the page showed, in UTC ticks, from its hidden field (0: none, or a dataset's
    /// label, which gives way to any person's).</summary>
    public static long SeenOf(LabelEntry? current) =>
        current is { Source: "human" } ? DateTime.SpecifyKind(current.CreatedAt, DateTimeKind.Utc).Ticks : 0;

    /// <summary>The moment a save must find no newer person's label than (<see cref="SeenOf"/> read back).</summary>
    public static DateTime Since(long seen) => seen > 0 ? new DateTime(seen, DateTimeKind.Utc) : DateTime.MinValue;

    public static (string Message, bool ShowAgain) Outcome(GuardedLabel result, int label)
    {
        if (result.Written is not null)
            return ($"Saved the label \"{DocumentClasses.NameOf(label)}\": the next training run uses it.", false);
        var current = result.Current;
        var who = current?.CreatedBy ?? "someone";
        // The same class (a colleague's, or this person's own save sent twice): nothing is left to change.
        if (current?.Label == label)
            return ($"Already labelled \"{DocumentClasses.NameOf(label)}\" by {who}: nothing to change.", false);
        return ($"Nothing saved: {who} labelled the document " +
            (current is null ? "" : $"\"{DocumentClasses.NameOf(current.Label)}\" ") +
            "after this page was opened. Save again to replace that label with the class chosen below.", true);
    }
}

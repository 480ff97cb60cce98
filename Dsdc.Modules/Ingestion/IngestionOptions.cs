using System.ComponentModel.DataAnnotations;

namespace Dsdc.Ingestion;

public sealed class IngestionOptions
{
    public const string Section = "Ingestion";

    /// <summary>
    /// A folder whose newest entry changed less than this many seconds ago is still being written: it waits for the
    /// next run. Writers that cannot be that slow should copy under a hidden name (".name") and rename when done.
    /// </summary>
    [Range(0, 3600)]
    public int SettleSeconds { get; set; } = 2;

    /// <summary>
    /// A settled file that looks incomplete (empty, truncated or damaged, or of no known type, as a file still being
    /// copied looks: a network copy that paused longer than <see cref="SettleSeconds"/>, a copier that sets the size
    /// first) waits until nothing has written it for this many seconds before it is rejected; a complete file is never
    /// held up. Only while <see cref="SettleSeconds"/> is above 0 (0 says every writer renames a finished file into the inbox).
    /// </summary>
    [Range(0, 86400)]
    public int IncompleteSeconds { get; set; } = 60;

    /// <summary>
    /// Days a document sent only to be classified (<c>POST /api/v1/predict</c>, the classify page) is kept while nobody
    /// labels it: older ones are deleted with everything derived from them (<see cref="UploadRetention"/>). A labelled one,
    /// and one that also arrived another way (the inbox, a batch upload), is kept. 0 (the default): kept for good.
    /// </summary>
    [Range(0, 36500)]
    public int KeepUnlabelledUploadsDays { get; set; }
}

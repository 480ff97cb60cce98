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
}

using System.ComponentModel.DataAnnotations;

namespace Dsdc.Monitoring;

public sealed class MonitoringOptions
{
    public const string Section = "Monitoring";

    /// <summary>How long Hangfire's queue and state counts are reused between scrapes.</summary>
    [Range(0, 3600)]
    public int JobsCacheSeconds { get; set; } = 5;

    /// <summary>How long the champion's metrics and the training run counts are reused between scrapes.</summary>
    [Range(0, 3600)]
    public int ModelCacheSeconds { get; set; } = 15;

    /// <summary>How long the label counts and the review queue's size are reused between scrapes (a reading goes over every
    /// current label three times, each pass about a quarter of a second at 100,000 documents, and counts the unlabelled
    /// documents; each scraped process reads them on its own).</summary>
    [Range(0, 3600)]
    public int LabelsCacheSeconds { get; set; } = 60;
}

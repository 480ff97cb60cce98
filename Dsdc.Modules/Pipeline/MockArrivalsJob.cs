using Dsdc.Ingestion;
using Dsdc.Shared;
using Dsdc.Shared.Jobs;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dsdc.Pipeline;

/// <summary>
/// Simulated arrivals (the original's mock_new_data DAG): copies randomly chosen labelled documents from a corpus laid
/// out in class folders (<c>&lt;index&gt;_&lt;name&gt;</c> or the class's name: <see cref="LabelledCorpus"/>) into the
/// inbox, each with its label.txt. A document appears in the inbox all at once (<see cref="InboxDrop"/>).
/// </summary>
public sealed class MockArrivalsJob(DsdcPaths paths, IOptions<PipelineOptions> options, IHostEnvironment environment)
{
    public const string RecurringId = "mock-arrivals";

    [Queue(JobQueues.Default)]
    [AutomaticRetry(Attempts = 0)]
    public string Run(int? count = null)
    {
        var mock = options.Value.MockArrivals;
        if (string.IsNullOrWhiteSpace(mock.CorpusDir))
            throw new InvalidOperationException($"{PipelineOptions.Section}:MockArrivals:CorpusDir is not set: it names the folder to copy documents from");
        var corpus = Path.GetFullPath(mock.CorpusDir, environment.ContentRootPath);
        var files = LabelledCorpus.Enumerate(corpus).ToList();
        if (files.Count == 0)
            throw new InvalidOperationException($"no labelled document under {corpus} (expected class folders named <index>_<name> or by the class's name)");

        var picked = files.OrderBy(_ => Random.Shared.Next()).Take(count ?? mock.Count).ToList();
        foreach (var (path, label) in picked)
        {
            InboxDrop.Add(paths.Inbox, path, label, $"mock-{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..8]}");
        }
        return $"{picked.Count} document(s) copied from {corpus}";
    }
}

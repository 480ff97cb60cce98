using System.Linq.Expressions;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Shared.Jobs;

/// <summary>
/// Sets the recurring jobs at start from this process's configuration, unless it leaves them to the app
/// (<see cref="JobsOptions.ManageSchedules"/>, off for the <c>worker</c> command and a web-only replica): the schedules
/// are shared by every process on the database, so a worker or replica started without the app's settings would otherwise
/// remove or change them for all.
/// </summary>
public sealed partial class RecurringSchedules(IRecurringJobManager jobs, IOptions<JobsOptions> options, ILogger<RecurringSchedules> logger,
    JobStorage? storage = null)
{
    private int _said;

    /// <summary>Adds or updates <paramref name="id"/> when <paramref name="enabled"/>, removes it otherwise.</summary>
    public void Set<T>(string id, Expression<Func<T, Task>> job, string cron, bool enabled)
    {
        if (!Manages()) return;
        if (enabled) jobs.AddOrUpdate(id, job, cron);
        else jobs.RemoveIfExists(id);
    }

    /// <inheritdoc cref="Set{T}(string, Expression{Func{T, Task}}, string, bool)"/>
    public void Set<T>(string id, Expression<Action<T>> job, string cron, bool enabled)
    {
        if (!Manages()) return;
        if (enabled) jobs.AddOrUpdate(id, job, cron);
        else jobs.RemoveIfExists(id);
    }

    private bool Manages()
    {
        if (options.Value.ManageSchedules) return true;
        if (Interlocked.Exchange(ref _said, 1) == 0)
        {
            LogLeft();
            // Where every process leaves them (web-only replicas beside workers), nothing ever runs on a schedule: say so.
            if (SchedulesSet() == 0) LogNoneSet();
        }
        return false;
    }

    private int? SchedulesSet()
    {
        if (storage is null) return null;
        try
        {
            using var connection = storage.GetConnection();
            return connection.GetRecurringJobs().Count;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null; // the database not reachable yet: the start-up checks say so
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Recurring schedules are left to the app (Jobs:ManageSchedules is false, the default of the worker command and of a web-only replica)")]
    private partial void LogLeft();

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "No recurring schedule is set (pipeline, training, predictions): unless they were all switched off on purpose, nothing runs on a schedule until a process that manages them starts. Run the app with Jobs:Server=true, or set Jobs__ManageSchedules=true on one process")]
    private partial void LogNoneSet();
}

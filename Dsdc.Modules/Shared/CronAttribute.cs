using System.ComponentModel.DataAnnotations;
using Cronos;

namespace Dsdc.Shared;

/// <summary>
/// A schedule Hangfire will accept: five fields (minute hour day month weekday), six with seconds first, or a macro such
/// as <c>@hourly</c>, read as Hangfire reads them (Cronos, UTC). Checked when the app starts, so a typo stops it with a
/// message naming the key instead of failing inside the job scheduler.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class CronAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context)
    {
        if (value is not string cron) return ValidationResult.Success; // [Required] says whether it may be missing
        var members = context.MemberName is { } member ? new[] { member } : null;
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (!cron.TrimStart().StartsWith('@') && fields is not (5 or 6))
            return new ValidationResult($"'{cron}' is not a cron schedule: it needs 5 fields (minute hour day month weekday) or 6 (seconds first), it has {fields}", members);
        try
        {
            CronExpression.Parse(cron.Trim(), fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            return ValidationResult.Success;
        }
        catch (CronFormatException ex)
        {
            return new ValidationResult($"'{cron}' is not a cron schedule: {ex.Message}", members);
        }
    }
}

using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dsdc.Shared;

public static class OptionsRegistration
{
    /// <summary>
    /// Binds <typeparamref name="T"/> to <paramref name="section"/> and validates it when the host starts, with
    /// messages that name the full configuration key (for example <c>Dsdc:DataDir</c>), so an operator knows what to fix.
    /// </summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IHostApplicationBuilder builder, string section)
        where T : class
    {
        builder.Services.AddSingleton<IValidateOptions<T>>(new KeyNamingValidator<T>(section));
        return builder.Services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>Reads a required string, failing with the key and the environment variable that sets it.</summary>
    public static string GetRequiredValue(this IConfiguration configuration, string key) =>
        configuration[key] is { Length: > 0 } value
            ? value
            : throw new ConfigurationException(key, "is missing");

    private sealed class KeyNamingValidator<T>(string section) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var failures = new List<string>();
            Collect(options, section, failures);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        /// <summary>The object's own attributes, then those of its nested option objects (Pipeline:MockArrivals...),
        /// which the data-annotations validator does not visit.</summary>
        private static void Collect(object options, string prefix, List<string> failures)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
            failures.AddRange(results.Select(r =>
            {
                var member = r.MemberNames.FirstOrDefault();
                var key = member is null ? prefix : $"{prefix}:{member}";
                return $"{key}: {r.ErrorMessage} (environment variable {ConfigurationException.EnvironmentName(key)})";
            }));
            foreach (var property in options.GetType().GetProperties())
                if (property.PropertyType.IsClass && property.PropertyType.Namespace?.StartsWith("Dsdc", StringComparison.Ordinal) == true
                    && property.GetIndexParameters().Length == 0 && property.GetValue(options) is { } nested)
                    Collect(nested, $"{prefix}:{property.Name}", failures);
        }
    }
}

/// <summary>A setting that is missing or wrong; the host prints it and stops.</summary>
public sealed class ConfigurationException(string key, string problem)
    : Exception($"{Prefix}{key} {problem} (environment variable {EnvironmentName(key)}).")
{
    internal const string Prefix = "Configuration error: ";

    public string Key { get; } = key;

    public static string EnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>
    /// The settings an exception out of building or validating the host says are wrong, one line each naming the key:
    /// a failed validation, a <see cref="ConfigurationException"/>, or a value the configuration binder could not convert
    /// (<c>Jobs__WorkerCount=auto</c>, <c>Ocr__PageTimeoutSeconds=2m</c>), which it reports as an
    /// <see cref="InvalidOperationException"/>; null when the exception is about something else.
    /// </summary>
    public static IReadOnlyList<string>? ProblemsOf(Exception ex) => ex switch
    {
        OptionsValidationException v => v.Failures.ToList(),
        ConfigurationException c => [c.Message[Prefix.Length..]],
        InvalidOperationException b when IsBindingError(b) => [Describe(b)],
        AggregateException a when a.InnerExceptions.Count > 0 =>
            a.InnerExceptions.Select(ProblemsOf).ToList() is var all && all.All(p => p is not null) ? all.SelectMany(p => p!).ToList() : null,
        _ => null,
    };

    private static bool IsBindingError(InvalidOperationException ex) =>
        ex.TargetSite?.DeclaringType == typeof(Microsoft.Extensions.Configuration.ConfigurationBinder)
        || ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal);

    private static string Describe(InvalidOperationException ex)
    {
        // "Failed to convert configuration value 'auto' at 'Jobs:WorkerCount' to type 'System.Int32'."
        var m = System.Text.RegularExpressions.Regex.Match(ex.Message, "value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'");
        if (!m.Success) return ex.Message;
        var key = m.Groups["key"].Value;
        var type = m.Groups["type"].Value.Split('.')[^1] switch
        {
            "Int32" or "Int64" => "a whole number",
            "Double" or "Single" or "Decimal" => "a number",
            "Boolean" => "true or false",
            "TimeSpan" => "a duration such as 00:05:00",
            var other => $"a value of type {other}",
        };
        return $"{key} must be {type}, not '{m.Groups["value"].Value}' (environment variable {EnvironmentName(key)})";
    }
}

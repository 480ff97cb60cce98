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
    : Exception($"Configuration error: {key} {problem} (environment variable {EnvironmentName(key)}).")
{
    public string Key { get; } = key;

    public static string EnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);
}

using System.Globalization;
using Dsdc.Shared.Cli;

namespace Dsdc.Training;

/// <summary>Reads <c>--name VALUE</c> options and positional arguments of a command.</summary>
internal sealed class CliArgs(IReadOnlyList<string> args)
{
    /// <exception cref="CommandLineException">the value is not a whole number of at least <paramref name="minimum"/>.</exception>
    public int? Int(string name, int minimum = 1) =>
        Value(name) is { } v ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= minimum
            ? n : throw new CommandLineException($"{name} needs a whole number of at least {minimum}, not '{v}'") : null;

    /// <exception cref="CommandLineException">the option is the last argument, with no value after it.</exception>
    public string? Value(string name)
    {
        var i = args.ToList().IndexOf(name);
        return i >= 0 ? i + 1 < args.Count ? args[i + 1] : throw new CommandLineException($"{name} needs a value") : null;
    }

    public bool Flag(string name) => args.Contains(name);

    /// <summary>Arguments that are neither options nor option values (<paramref name="valued"/> options take one).</summary>
    public IReadOnlyList<string> Positional(params string[] valued)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (valued.Contains(args[i])) i++;
            else if (!args[i].StartsWith("--", StringComparison.Ordinal)) result.Add(args[i]);
        }
        return result;
    }
}

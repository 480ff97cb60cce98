using System.Globalization;

namespace Dsdc.Training;

/// <summary>Reads <c>--name VALUE</c> options and positional arguments of a command.</summary>
internal sealed class CliArgs(IReadOnlyList<string> args)
{
    public int? Int(string name) =>
        Value(name) is { } v ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n : throw new ArgumentException($"{name} needs a positive integer, not '{v}'") : null;

    public string? Value(string name)
    {
        var i = args.ToList().IndexOf(name);
        return i >= 0 ? i + 1 < args.Count ? args[i + 1] : throw new ArgumentException($"{name} needs a value") : null;
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

namespace Dsdc.Shared.Cli;

/// <summary>A command of the same binary: <c>dotnet run --project Dsdc.Web -- NAME ARGS...</c>.</summary>
public interface ICliCommand
{
    string Name { get; }

    /// <summary>One line for the usage text, arguments first: <c>FILE... classify files and print JSON lines</c>.</summary>
    string Usage { get; }

    /// <summary>
    /// The options the command takes, a value's placeholder after a space (<c>--runs N</c>, <c>--json</c>): the host refuses
    /// any other <c>--name</c> before the command runs (exit 2), so a misspelt option is never silently ignored. Null: the
    /// command checks its arguments itself.
    /// </summary>
    IReadOnlyList<string>? Options => null;

    /// <summary>Runs with the arguments after the name; returns the process exit code.</summary>
    Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct);
}

/// <summary>A command's arguments are wrong (a missing value, a number that is not one): the host prints the message and
/// the command's usage, and exits with 2.</summary>
public sealed class CommandLineException(string message) : Exception(message);

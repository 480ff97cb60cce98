using System.Text;

namespace Dsdc.Auth;

/// <summary>
/// Reads a password from standard input: the first line when piped, or typed twice without echo at a terminal.
/// Null when the two typed passwords differ (already reported).
/// </summary>
internal static class PasswordInput
{
    public static string? Read()
    {
        if (Console.IsInputRedirected) return Console.In.ReadLine() ?? "";
        var first = Prompt("New password: ");
        var second = Prompt("Repeat it: ");
        if (first == second) return first;
        Console.Error.WriteLine("The two passwords differ.");
        return null;
    }

    private static string Prompt(string label)
    {
        Console.Error.Write(label);
        var text = new StringBuilder();
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace) { if (text.Length > 0) text.Length--; }
            else if (!char.IsControl(key.KeyChar)) text.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return text.ToString();
    }
}

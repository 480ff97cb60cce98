using System.Text.RegularExpressions;

namespace Dsdc.Auth;

/// <summary>User names are compared case-insensitively and kept to a safe, log-friendly alphabet.</summary>
public static partial class Usernames
{
    public const string Rule = "must be 1-64 characters: letters, digits, '.', '_', '-' or '@', starting with a letter or digit";

    /// <summary>The name the software records its own predictions under (the new-documents job's): a person may not have
    /// it, since the job's replaced answers are deleted by this name, and a reviewer tells the job's answers by it.</summary>
    public const string Software = "dsdc";

    public const string ReservedRule = $"'{Software}' is reserved for the predictions the software records itself; choose another name";

    public static bool IsValid(string username) => Pattern().IsMatch(username);

    public static bool IsReserved(string username) => string.Equals(username, Software, StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}\\z")]
    private static partial Regex Pattern();
}

/// <summary>What a new password must satisfy.</summary>
public static class PasswordPolicy
{
    public const int MinLength = 12;

    /// <summary>Longer inputs are refused before hashing, so nobody can make the server hash megabytes.</summary>
    public const int MaxLength = 256;

    /// <summary>Null when acceptable, otherwise the reason (never containing the password).</summary>
    public static string? Check(string password) => password.Length switch
    {
        < MinLength => $"is too weak: at least {MinLength} characters are required",
        > MaxLength => $"is too long: at most {MaxLength} characters",
        _ when string.IsNullOrWhiteSpace(password) => "must not be blank",
        _ => null,
    };
}

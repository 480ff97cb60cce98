using Dsdc.Shared.Cli;

namespace Dsdc.Auth;

/// <summary>
/// <c>users add NAME --role ROLE | list | disable NAME | enable NAME | set-password NAME</c>. Passwords are read from
/// standard input, never from the command line (where <c>ps</c> and shell history would show them).
/// Exit codes: 0 done, 1 refused (name taken, unknown user, weak password), 2 wrong usage.
/// </summary>
internal sealed class UsersCommand(UserStore users, PasswordHashing hashing) : ICliCommand
{
    private const string Syntax = "users add NAME --role ROLE | list | disable NAME | enable NAME | set-password NAME";

    public string Name => "users";
    public string Usage => "add NAME --role ROLE | list | disable NAME | enable NAME | set-password NAME (passwords from standard input)";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        if (args.Any(a => a.StartsWith("--password", StringComparison.OrdinalIgnoreCase)))
            return Fail(2, "Passwords are read from standard input, never from the command line.");
        return args switch
        {
            ["add", var name, "--role", var role] => await AddAsync(name, role, ct),
            ["list"] => await ListAsync(ct),
            ["disable", var name] => await DisableAsync(name, ct),
            ["enable", var name] when Usernames.IsReserved(name) => Fail(2, $"User {name} is not enabled again: {Usernames.ReservedRule}."),
            ["enable", var name] => Report(await users.SetDisabledAsync(name, false, ct), $"User {name} enabled.", name),
            ["set-password", var name] => await SetPasswordAsync(name, ct),
            _ => Fail(2, $"Usage: {Syntax}\nRoles: {string.Join(", ", Roles.All)}."),
        };
    }

    private async Task<int> AddAsync(string name, string role, CancellationToken ct)
    {
        if (!Usernames.IsValid(name)) return Fail(2, $"User name '{name}' is not valid: it {Usernames.Rule}.");
        if (Usernames.IsReserved(name)) return Fail(2, $"User name '{name}' is not valid: {Usernames.ReservedRule}.");
        if (!Roles.IsValid(role)) return Fail(2, $"Unknown role '{role}'; roles: {string.Join(", ", Roles.All)}.");
        if (await users.FindAsync(name, ct) is not null) return Fail(1, $"User {name} already exists.");
        if (ReadNewPassword() is not { } password) return 1;
        return await users.AddAsync(name, role, hashing.Hash(password), ct)
            ? Done($"User {name} added with role {role}.")
            : Fail(1, $"User {name} already exists.");
    }

    private async Task<int> ListAsync(CancellationToken ct)
    {
        var all = await users.ListAsync(ct);
        Console.WriteLine($"{"USER",-24} {"ROLE",-12} {"STATUS",-9} CREATED (UTC)");
        foreach (var u in all)
            Console.WriteLine($"{u.Username,-24} {u.Role,-12} {(u.Disabled ? "disabled" : "enabled"),-9} {u.CreatedAt:yyyy-MM-dd HH:mm}");
        return 0;
    }

    private async Task<int> DisableAsync(string name, CancellationToken ct)
    {
        if (await users.FindAsync(name, ct) is not { } user) return Fail(1, $"No user named {name}.");
        // Refused so that nobody locks every admin out by mistake; Auth:Admin at the next start is the way back otherwise.
        if (user is { Role: Roles.Admin, Disabled: false } && (await users.ListAsync(ct)).Count(u => u is { Role: Roles.Admin, Disabled: false }) == 1)
            return Fail(1, $"User {user.Username} is the last enabled admin; add another admin first.");
        return Report(await users.SetDisabledAsync(name, true, ct), $"User {user.Username} disabled; their tokens stop working.", name);
    }

    private async Task<int> SetPasswordAsync(string name, CancellationToken ct)
    {
        if (await users.FindAsync(name, ct) is null) return Fail(1, $"No user named {name}.");
        if (ReadNewPassword() is not { } password) return 1;
        return Report(await users.SetPasswordHashAsync(name, hashing.Hash(password), ct), $"Password of {name} changed.", name);
    }

    private static string? ReadNewPassword()
    {
        var password = PasswordInput.Read();
        if (password is null) return null;
        if (password.Length == 0) { Fail(1, "No password given on standard input."); return null; }
        if (PasswordPolicy.Check(password) is { } problem) { Fail(1, $"The password {problem}."); return null; }
        return password;
    }

    private static int Report(bool changed, string message, string name) => changed ? Done(message) : Fail(1, $"No user named {name}.");

    private static int Done(string message)
    {
        Console.WriteLine(message);
        return 0;
    }

    private static int Fail(int code, string message)
    {
        Console.Error.WriteLine(message);
        return code;
    }
}

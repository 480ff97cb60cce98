namespace Dsdc.Auth;

/// <summary>The roles a user can have; each one includes the rights of those before it.</summary>
public static class Roles
{
    public const string User = "user";
    public const string ModelAdmin = "model-admin";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [User, ModelAdmin, Admin];

    public static bool IsValid(string? role) => role is not null && All.Contains(role);

    /// <summary>The roles that carry at least the rights of <paramref name="role"/>.</summary>
    public static string[] AtLeast(string role) => All.Skip(IndexOf(role)).ToArray();

    private static int IndexOf(string role) =>
        All.ToList().IndexOf(role) is var i and >= 0 ? i : throw new ArgumentOutOfRangeException(nameof(role), role, "unknown role");
}

/// <summary>
/// Authorization policies for endpoints and pages: <c>.RequireAuthorization(AuthPolicies.ModelAdmin)</c>.
/// Each accepts its own role and every higher one (admin ⊃ model-admin ⊃ user).
/// </summary>
public static class AuthPolicies
{
    public const string User = "User";
    public const string ModelAdmin = "ModelAdmin";
    public const string Admin = "Admin";
}

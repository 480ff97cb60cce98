using System.Security.Claims;

namespace Dsdc.Auth;

/// <summary>The signed-in user of a request, the same for bearer tokens and cookies: <c>User.GetUserName()</c>.</summary>
public static class ClaimsPrincipalExtensions
{
    public const string NameClaim = "sub";
    public const string RoleClaim = "role";

    /// <summary>The user's session version when the token or cookie was issued; tokens from before it existed count as 0.</summary>
    public const string SessionVersionClaim = "sv";

    /// <summary>The user name (claim <c>sub</c>) of an authenticated principal, otherwise null.</summary>
    public static string? GetUserName(this ClaimsPrincipal principal) =>
        principal.Identity?.IsAuthenticated == true ? principal.FindFirstValue(NameClaim) : null;

    /// <summary>The role (claim <c>role</c>) of an authenticated principal, otherwise null.</summary>
    public static string? GetRole(this ClaimsPrincipal principal) =>
        principal.Identity?.IsAuthenticated == true ? principal.FindFirstValue(RoleClaim) : null;

    /// <summary>True when the principal's role carries the rights of <paramref name="role"/> (admin ⊃ model-admin ⊃ user).</summary>
    public static bool HasRoleAtLeast(this ClaimsPrincipal principal, string role) =>
        principal.GetRole() is { } actual && Roles.AtLeast(role).Contains(actual);

    internal static int GetSessionVersion(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(SessionVersionClaim) is not { } value ? 0
            : int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -2;

    internal static ClaimsIdentity CreateIdentity(string authenticationType, string username, string role, int sessionVersion) =>
        new([new Claim(NameClaim, username), new Claim(RoleClaim, role),
            new Claim(SessionVersionClaim, sessionVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), ClaimValueTypes.Integer32)],
            authenticationType, NameClaim, RoleClaim);
}

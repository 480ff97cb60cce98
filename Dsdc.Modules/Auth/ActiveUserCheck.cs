using System.Security.Claims;

namespace Dsdc.Auth;

/// <summary>
/// Refuses a valid token or cookie whose user was disabled, deleted or given another role since it was issued, or whose
/// sessions ended since (log-out, password change): its <c>sv</c> claim is older than the user's session version.
/// </summary>
internal sealed class ActiveUserCheck(UserStore users, UserStatusCache cache)
{
    public async Task<bool> IsCurrentAsync(ClaimsPrincipal? principal, CancellationToken ct)
    {
        if (principal?.GetUserName() is not { } name || principal.GetRole() is not { } role) return false;
        var status = await cache.GetAsync(name, c => users.FindSessionStateAsync(name, c), ct);
        return status.Active && status.Role == role && principal.GetSessionVersion() == status.SessionVersion;
    }
}

using System.Security.Claims;

namespace Dsdc.Auth;

/// <summary>Refuses a valid token or cookie whose user was disabled, deleted or given another role since it was issued.</summary>
internal sealed class ActiveUserCheck(UserStore users, UserStatusCache cache)
{
    public async Task<bool> IsCurrentAsync(ClaimsPrincipal? principal, CancellationToken ct)
    {
        if (principal?.GetUserName() is not { } name || principal.GetRole() is not { } role) return false;
        var status = await cache.GetAsync(name, c => users.FindAsync(name, c), ct);
        return status.Active && status.Role == role;
    }
}

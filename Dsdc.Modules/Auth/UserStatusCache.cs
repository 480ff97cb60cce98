using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Dsdc.Auth;

/// <summary>
/// Each authenticated request checks that its user still exists, is enabled, keeps the role in the token and has not
/// ended its sessions since (log-out, password change: the session version). The answer
/// is cached for <see cref="AuthOptions.UserCacheSeconds"/>, so a change made by another process (the CLI) takes effect
/// within that time, and one made in this process at once.
/// </summary>
internal sealed class UserStatusCache(IMemoryCache cache, IOptions<AuthOptions> options)
{
    internal sealed record Status(bool Active, string Role, int SessionVersion);

    public async Task<Status> GetAsync(string username, Func<CancellationToken, Task<UserStore.SessionState?>> load, CancellationToken ct)
    {
        var key = Key(username);
        if (cache.TryGetValue(key, out Status? status) && status is not null) return status;
        var user = await load(ct);
        status = new Status(user is { Disabled: false }, user?.Role ?? "", user?.SessionVersion ?? -1);
        if (options.Value.UserCacheSeconds > 0)
            cache.Set(key, status, TimeSpan.FromSeconds(options.Value.UserCacheSeconds));
        return status;
    }

    public void Forget(string username) => cache.Remove(Key(username));

    private static string Key(string username) => "dsdc-auth-user:" + username.ToLowerInvariant();
}

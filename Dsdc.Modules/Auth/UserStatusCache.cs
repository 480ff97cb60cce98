using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Dsdc.Auth;

/// <summary>
/// Each authenticated request checks that its user still exists, is enabled, keeps the role in the token and has not
/// ended its sessions since (log-out, password change: the session version). The answer
/// is cached for <see cref="AuthOptions.UserCacheSeconds"/>, so a change made by another process (the CLI) takes effect
/// within that time, and one made in this process at once: a change counts a generation of the user name, and an answer
/// read before the change is not cached after it (a request that read the row just before a log-out would otherwise
/// cache the old session version for the whole cache time).
/// </summary>
internal sealed class UserStatusCache(IMemoryCache cache, IOptions<AuthOptions> options)
{
    internal sealed record Status(bool Active, string Role, int SessionVersion);

    private readonly ConcurrentDictionary<string, long> _generations = new(StringComparer.Ordinal);

    public async Task<Status> GetAsync(string username, Func<CancellationToken, Task<UserStore.SessionState?>> load, CancellationToken ct)
    {
        var key = Key(username);
        if (cache.TryGetValue(key, out Status? status) && status is not null) return status;
        var generation = _generations.GetValueOrDefault(key);
        var user = await load(ct);
        status = new Status(user is { Disabled: false }, user?.Role ?? "", user?.SessionVersion ?? -1);
        if (options.Value.UserCacheSeconds > 0)
        {
            cache.Set(key, status, TimeSpan.FromSeconds(options.Value.UserCacheSeconds));
            // Changed while it was being read: what was read may be the old row, so it is not kept.
            if (_generations.GetValueOrDefault(key) != generation) cache.Remove(key);
        }
        return status;
    }

    public void Forget(string username)
    {
        var key = Key(username);
        _generations.AddOrUpdate(key, 1, (_, g) => g + 1);
        cache.Remove(key);
    }

    private static string Key(string username) => "dsdc-auth-user:" + username.ToLowerInvariant();
}

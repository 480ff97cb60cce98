using Dsdc.Auth;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Auth;

/// <summary>A log-out or password change in this process takes effect at once, even for a request that was reading the
/// user's row when it happened.</summary>
public sealed class UserStatusCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnAnswerReadBeforeAChangeIsNotCachedAfterIt()
    {
        using var memory = new MemoryCache(new MemoryCacheOptions());
        var cache = new UserStatusCache(memory, Options.Create(new AuthOptions { UserCacheSeconds = 60 }));
        var version = 1;
        var loads = 0;

        // The row is read (session version 1), then the user logs out (version 2, Forget) before the answer is cached.
        var first = await cache.GetAsync("Ada", _ =>
        {
            loads++;
            var read = new UserStore.SessionState("user", false, version);
            version = 2;
            cache.Forget("ada");
            return Task.FromResult<UserStore.SessionState?>(read);
        }, Ct);
        var next = await cache.GetAsync("ada", _ => { loads++; return Task.FromResult<UserStore.SessionState?>(new("user", false, version)); }, Ct);

        Assert.Equal(1, first.SessionVersion);
        Assert.Equal((2, 2), (next.SessionVersion, loads)); // read again, not the stale answer
        var cached = await cache.GetAsync("ada", _ => { loads++; return Task.FromResult<UserStore.SessionState?>(null); }, Ct);
        Assert.Equal((2, 2), (cached.SessionVersion, loads)); // and cached once nothing changed meanwhile
    }
}

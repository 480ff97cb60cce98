using System.Net;
using Microsoft.Extensions.Logging;

namespace Dsdc.Auth;

/// <summary>The outcome of a log-in attempt.</summary>
public abstract record LoginResult
{
    public sealed record Success(string Username, string Role, int SessionVersion = 0) : LoginResult;

    /// <summary>Unknown user, wrong password or disabled user: deliberately not told apart.</summary>
    public sealed record Invalid : LoginResult;

    public sealed record Throttled(TimeSpan RetryAfter) : LoginResult;
}

/// <summary>Checks a user name and password, with throttling: the token endpoint and the web UI's log-in page use it.</summary>
public interface ILoginService
{
    Task<LoginResult> LogInAsync(string username, string password, IPAddress? client, CancellationToken ct);
}

/// <summary>
/// Every attempt costs one password hash, found user or not, so that timing does not reveal which names exist.
/// </summary>
internal sealed class LoginService(UserStore users, PasswordHashing hashing, LoginThrottle throttle, ILogger<LoginService> logger)
    : ILoginService
{
    /// <summary>
    /// Attempts for one user name, and from one address, run one at a time in this process: the throttle's check and its
    /// count are separate statements, and requests sent all at once would otherwise all pass the check before any
    /// failure is counted (N guesses per lockout instead of Auth:Throttle:MaxFailuresPerUser). Across replicas the
    /// bound is that many guesses per replica.
    /// </summary>
    internal static readonly KeyedGate Gate = new();

    public async Task<LoginResult> LogInAsync(string username, string password, IPAddress? client, CancellationToken ct)
    {
        // The address as the throttle counts it (an IPv6 /64 as one), or guesses from many addresses of one /64 would
        // pass the check side by side.
        using var byAddress = await Gate.EnterAsync(LoginThrottle.AddressKey(client) ?? "address:unknown", ct);
        using var byName = await Gate.EnterAsync("user:" + username.ToLowerInvariant(), ct);
        return await LogInOneAtATimeAsync(username, password, client, ct);
    }

    private async Task<LoginResult> LogInOneAtATimeAsync(string username, string password, IPAddress? client, CancellationToken ct)
    {
        if (await throttle.LockedForAsync(username, client, ct) is { } lockedFor)
        {
            logger.LogWarning("Log-in from {Client} refused: too many failures for this user name or address", client);
            return new LoginResult.Throttled(lockedFor);
        }

        var user = Usernames.IsValid(username) && password.Length <= PasswordPolicy.MaxLength
            ? await users.FindCredentialsAsync(username, ct)
            : null;
        var outcome = PasswordHashing.Outcome.Wrong;
        // While an earlier version's hash remains, every check costs both kinds of hash (see PasswordHashing.Verify).
        var legacyHashesRemain = await users.AnyLegacyPasswordHashAsync(ct);
        if (user is null) hashing.VerifyDecoy(password, legacyHashesRemain);
        else outcome = hashing.Verify(user.PasswordHash, password, legacyHashesRemain);

        if (user is null || user.Disabled || outcome == PasswordHashing.Outcome.Wrong)
        {
            await throttle.RecordFailureAsync(username, client, ct);
            // The name is logged only when it exists: a "user name" that does not may be a password typed into the wrong field.
            logger.LogWarning("Failed log-in for user {Username} from {Client} ({Reason})", user?.Username ?? "(unknown)", client,
                user is null ? "unknown user" : user.Disabled ? "disabled" : "wrong password");
            return new LoginResult.Invalid();
        }

        if (outcome == PasswordHashing.Outcome.RightButRehash)
            await users.RehashPasswordAsync(user.Username, user.PasswordHash, hashing.Hash(password), ct);
        await throttle.RecordSuccessAsync(user.Username, client, ct);
        logger.LogInformation("User {Username} logged in from {Client}", user.Username, client);
        return new LoginResult.Success(user.Username, user.Role, user.SessionVersion);
    }
}

/// <summary>One holder per key at a time; a key's semaphore lives while someone holds or waits for it.</summary>
internal sealed class KeyedGate
{
    private readonly Dictionary<string, (SemaphoreSlim Semaphore, int Users)> _gates = new(StringComparer.Ordinal);

    public async Task<IDisposable> EnterAsync(string key, CancellationToken ct)
    {
        SemaphoreSlim semaphore;
        lock (_gates)
        {
            var (existing, users) = _gates.TryGetValue(key, out var entry) ? entry : (new SemaphoreSlim(1, 1), 0);
            _gates[key] = (existing, users + 1);
            semaphore = existing;
        }
        try
        {
            await semaphore.WaitAsync(ct);
        }
        catch
        {
            Leave(key, release: false);
            throw;
        }
        return new Holder(this, key);
    }

    private void Leave(string key, bool release)
    {
        lock (_gates)
        {
            var (semaphore, users) = _gates[key];
            if (release) semaphore.Release();
            if (users == 1) _gates.Remove(key);
            else _gates[key] = (semaphore, users - 1);
        }
    }

    /// <summary>How many keys are held or waited for (0 once every holder has left).</summary>
    internal int Count { get { lock (_gates) return _gates.Count; } }

    private sealed class Holder(KeyedGate gate, string key) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0) gate.Leave(key, release: true);
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Auth;

/// <summary>
/// Brute-force protection that cannot be turned against a user. Failures are counted per (client address, user name)
/// pair, per address and per user name across all addresses, each locking for a time that doubles with each further failure:
/// <list type="bullet">
/// <item>the pair locks after <see cref="ThrottleOptions.MaxFailuresPerUser"/> failures: the guesser, for that name;</item>
/// <item>the address locks after <see cref="ThrottleOptions.MaxFailuresPerAddress"/> (guessing many names from one place);</item>
/// <item>the name locks after <see cref="ThrottleOptions.MaxFailuresPerUserName"/> failures from anywhere (guesses spread
/// over many addresses), but only for addresses that have themselves failed for that name: the owner, logging in from
/// an address without failures, still gets in with the right password.</item>
/// </list>
/// Kept in the database so that every replica of the app sees the same counts and a restart does not reset them.
/// </summary>
internal sealed class LoginThrottle(NpgsqlDataSource dataSource, IOptions<AuthOptions> options)
{
    private ThrottleOptions Settings => options.Value.Throttle;

    /// <summary>How long this address is still locked out for this user name; null when it is not.</summary>
    public async Task<TimeSpan?> LockedForAsync(string? username, IPAddress? address, CancellationToken ct)
    {
        const string sql = """
            SELECT EXTRACT(EPOCH FROM max(t.locked_until) - now())::float8
            FROM auth.login_throttle t
            WHERE t.locked_until > now()
              AND (t.key = ANY(@direct)
                   OR (t.key = @user AND EXISTS (SELECT 1 FROM auth.login_throttle p
                                                 WHERE p.key = @pair AND p.last_failure_at > now() - make_interval(secs => @window))))
            """;
        var pair = PairKey(username, address);
        string[] direct = [.. new[] { pair, AddressKey(address) }.OfType<string>()];
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var seconds = await conn.ExecuteScalarAsync<double?>(new CommandDefinition(sql,
            new { direct, user = UserKey(username), pair, window = (double)Settings.WindowSeconds }, cancellationToken: ct));
        return seconds is > 0 ? TimeSpan.FromSeconds(seconds.Value) : null;
    }

    public async Task RecordFailureAsync(string? username, IPAddress? address, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        if (PairKey(username, address) is { } pair) await CountAsync(conn, pair, Settings.MaxFailuresPerUser, ct);
        if (UserKey(username) is { } user) await CountAsync(conn, user, Settings.MaxFailuresPerUserName, ct);
        if (AddressKey(address) is { } ip) await CountAsync(conn, ip, Settings.MaxFailuresPerAddress, ct);
        // The window runs from the end of a lockout as well as from the last failure: a lockout as long as the window
        // (the defaults: 900 s each) would otherwise end with the count forgotten, and the doubling start again.
        const string forget = """
            DELETE FROM auth.login_throttle
            WHERE greatest(last_failure_at, locked_until) < now() - make_interval(secs => @window)
            """;
        await conn.ExecuteAsync(new CommandDefinition(forget, new { window = (double)Settings.WindowSeconds }, cancellationToken: ct));
    }

    /// <summary>A right password clears the counts of the user name and of this address with it; the address keeps its
    /// own count, or one valid account would let its owner keep guessing the passwords of others.</summary>
    public async Task RecordSuccessAsync(string username, IPAddress? address, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        string[] keys = [.. new[] { UserKey(username), PairKey(username, address) }.OfType<string>()];
        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM auth.login_throttle WHERE key = ANY(@keys)",
            new { keys }, cancellationToken: ct));
    }

    private async Task CountAsync(NpgsqlConnection conn, string key, int maxFailures, CancellationToken ct)
    {
        const string count = """
            INSERT INTO auth.login_throttle AS t (key, failures, last_failure_at) VALUES (@key, 1, now())
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN greatest(t.last_failure_at, t.locked_until) < now() - make_interval(secs => @window)
                                THEN 1 ELSE t.failures + 1 END,
                last_failure_at = now()
            RETURNING failures
            """;
        var failures = await conn.ExecuteScalarAsync<int>(new CommandDefinition(count,
            new { key, window = (double)Settings.WindowSeconds }, cancellationToken: ct));
        if (failures < maxFailures) return;

        var doublings = Math.Min(failures - maxFailures, 20);
        var seconds = Math.Min((double)Settings.LockoutSeconds * (1L << doublings), Settings.MaxLockoutSeconds);
        const string lockOut = "UPDATE auth.login_throttle SET locked_until = now() + make_interval(secs => @seconds) WHERE key = @key";
        await conn.ExecuteAsync(new CommandDefinition(lockOut, new { key, seconds }, cancellationToken: ct));
    }

    // Hashed: the name tried may be a password typed into the wrong field, and must not sit in the table in clear.
    private static string? UserKey(string? username) =>
        string.IsNullOrEmpty(username) ? null : "user:" + Hash(username.ToLowerInvariant());

    private static string? PairKey(string? username, IPAddress? address) =>
        string.IsNullOrEmpty(username) ? null : "pair:" + Hash((AddressKey(address) ?? "address:unknown") + "|" + username.ToLowerInvariant());

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>IPv6 clients usually own a whole /64, so that is what gets counted (and what the log-in gate serialises).</summary>
    internal static string? AddressKey(IPAddress? address)
    {
        if (address is null) return null;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return "address:" + new IPAddress(bytes) + "/64";
        }
        return "address:" + address;
    }
}

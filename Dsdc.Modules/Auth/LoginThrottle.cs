using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Dsdc.Auth;

/// <summary>
/// Locks out a user name after <see cref="ThrottleOptions.MaxFailuresPerUser"/> failed log-ins, and a client address
/// after <see cref="ThrottleOptions.MaxFailuresPerAddress"/>, for a time that doubles with each further failure. Kept in
/// the database so that every replica of the app sees the same counts and a restart does not reset them.
/// </summary>
internal sealed class LoginThrottle(NpgsqlDataSource dataSource, IOptions<AuthOptions> options)
{
    private ThrottleOptions Settings => options.Value.Throttle;

    /// <summary>How long the user name or the address is still locked out; null when neither is.</summary>
    public async Task<TimeSpan?> LockedForAsync(string? username, IPAddress? address, CancellationToken ct)
    {
        const string sql = """
            SELECT EXTRACT(EPOCH FROM max(locked_until) - now())::float8
            FROM auth.login_throttle WHERE key = ANY(@keys) AND locked_until > now()
            """;
        string[] keys = [.. new[] { UserKey(username), AddressKey(address) }.OfType<string>()];
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var seconds = await conn.ExecuteScalarAsync<double?>(new CommandDefinition(sql, new { keys }, cancellationToken: ct));
        return seconds is > 0 ? TimeSpan.FromSeconds(seconds.Value) : null;
    }

    public async Task RecordFailureAsync(string? username, IPAddress? address, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        if (UserKey(username) is { } user) await CountAsync(conn, user, Settings.MaxFailuresPerUser, ct);
        if (AddressKey(address) is { } ip) await CountAsync(conn, ip, Settings.MaxFailuresPerAddress, ct);
        const string forget = """
            DELETE FROM auth.login_throttle
            WHERE last_failure_at < now() - make_interval(secs => @window) AND (locked_until IS NULL OR locked_until < now())
            """;
        await conn.ExecuteAsync(new CommandDefinition(forget, new { window = (double)Settings.WindowSeconds }, cancellationToken: ct));
    }

    /// <summary>A right password clears the user name's count; the address keeps its count, or one valid account would
    /// let its owner keep guessing the passwords of others.</summary>
    public async Task RecordSuccessAsync(string username, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM auth.login_throttle WHERE key = @key",
            new { key = UserKey(username) }, cancellationToken: ct));
    }

    private async Task CountAsync(NpgsqlConnection conn, string key, int maxFailures, CancellationToken ct)
    {
        const string count = """
            INSERT INTO auth.login_throttle AS t (key, failures, last_failure_at) VALUES (@key, 1, now())
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => @window) THEN 1 ELSE t.failures + 1 END,
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
        string.IsNullOrEmpty(username) ? null
            : "user:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(username.ToLowerInvariant())));

    /// <summary>IPv6 clients usually own a whole /64, so that is what gets counted.</summary>
    private static string? AddressKey(IPAddress? address)
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

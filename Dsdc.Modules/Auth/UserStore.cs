using Dapper;
using Npgsql;

namespace Dsdc.Auth;

/// <summary>SQL of <c>auth.users</c>. User names match case-insensitively.</summary>
internal sealed class UserStore(NpgsqlDataSource dataSource, UserStatusCache statusCache) : IUserDirectory
{
    private const string Columns = "id, username, role, disabled, created_at, updated_at";

    internal sealed record Credentials(long Id, string Username, string Role, bool Disabled, string PasswordHash, int SessionVersion);

    /// <summary>What the per-request check of a cookie or token needs.</summary>
    internal sealed record SessionState(string Role, bool Disabled, int SessionVersion);

    public async Task<SessionState?> FindSessionStateAsync(string username, CancellationToken ct)
    {
        const string sql = "SELECT role, disabled, session_version FROM auth.users WHERE lower(username) = lower(@username)";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<SessionState>(new CommandDefinition(sql, new { username }, cancellationToken: ct));
    }

    /// <summary>Ends every session of the user: cookies and tokens issued before now stop working (log-out).</summary>
    public Task<bool> EndSessionsAsync(string username, CancellationToken ct) =>
        UpdateAsync(username, "session_version = session_version + 1", 0, ct);

    public async Task<UserInfo?> FindAsync(string username, CancellationToken ct)
    {
        const string sql = $"SELECT {Columns} FROM auth.users WHERE lower(username) = lower(@username)";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<UserInfo>(new CommandDefinition(sql, new { username }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<UserInfo>> ListAsync(CancellationToken ct)
    {
        const string sql = $"SELECT {Columns} FROM auth.users ORDER BY lower(username)";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<UserInfo>(new CommandDefinition(sql, cancellationToken: ct))).AsList();
    }

    public async Task<Credentials?> FindCredentialsAsync(string username, CancellationToken ct)
    {
        const string sql = """
            SELECT id, username, role, disabled, password_hash, session_version
            FROM auth.users WHERE lower(username) = lower(@username)
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Credentials>(new CommandDefinition(sql, new { username }, cancellationToken: ct));
    }

    /// <summary>Adds a user; false when the name is taken (in any letter case).</summary>
    public async Task<bool> AddAsync(string username, string role, string passwordHash, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO auth.users (username, role, password_hash) VALUES (@username, @role, @passwordHash)
            ON CONFLICT ((lower(username))) DO NOTHING
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(sql, new { username, role, passwordHash }, cancellationToken: ct)) == 1;
    }

    /// <summary>A new password: every session of the user ends with it.</summary>
    public Task<bool> SetPasswordHashAsync(string username, string passwordHash, CancellationToken ct) =>
        UpdateAsync(username, "password_hash = @value, session_version = session_version + 1", passwordHash, ct);

    /// <summary>The same password under a stronger hash (at log-in): sessions go on. Only while the stored hash is still
    /// the one verified: a password changed meanwhile (users set-password) is never overwritten by the old one's rehash.</summary>
    public async Task<bool> RehashPasswordAsync(string username, string verifiedHash, string passwordHash, CancellationToken ct)
    {
        const string sql = """
            UPDATE auth.users SET password_hash = @passwordHash, updated_at = now()
            WHERE lower(username) = lower(@username) AND password_hash = @verifiedHash
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var changed = await conn.ExecuteAsync(new CommandDefinition(sql, new { username, verifiedHash, passwordHash }, cancellationToken: ct)) == 1;
        statusCache.Forget(username);
        return changed;
    }

    /// <summary>Disables or enables a user. Disabling ends every session and token of the user for good: enabling the
    /// account again later does not bring back the tokens issued before (a leaked one stays dead).</summary>
    public Task<bool> SetDisabledAsync(string username, bool disabled, CancellationToken ct) =>
        UpdateAsync(username, "disabled = @value, session_version = session_version + CASE WHEN @value THEN 1 ELSE 0 END", disabled, ct);

    /// <summary>Whether a user still has a password hash of an earlier version (PBKDF2): replaced at that user's next log-in.</summary>
    public async Task<bool> AnyLegacyPasswordHashAsync(CancellationToken ct)
    {
        const string sql = "SELECT EXISTS (SELECT 1 FROM auth.users WHERE NOT starts_with(password_hash, @prefix))";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(sql, new { prefix = PasswordHashing.Argon2idPrefix }, cancellationToken: ct));
    }

    public async Task<bool> AnyEnabledAdminAsync(CancellationToken ct)
    {
        const string sql = "SELECT EXISTS (SELECT 1 FROM auth.users WHERE role = 'admin' AND NOT disabled)";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(sql, cancellationToken: ct));
    }

    /// <summary>
    /// Makes <paramref name="username"/> an enabled admin with this password unless an enabled admin exists, as one
    /// step: the check and the write run in one transaction under a transaction-level advisory lock, so the app and its
    /// workers starting together create the first admin once (a second write would change its hash and end the
    /// sessions just opened). True when this call created it.
    /// </summary>
    public async Task<bool> CreateFirstAdminAsync(string username, string passwordHash, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(hashtextextended('dsdc.auth.first-admin', 0))", transaction: tx, cancellationToken: ct));
        const string exists = "SELECT EXISTS (SELECT 1 FROM auth.users WHERE role = 'admin' AND NOT disabled)";
        if (await conn.ExecuteScalarAsync<bool>(new CommandDefinition(exists, transaction: tx, cancellationToken: ct)))
            return false;
        await conn.ExecuteAsync(new CommandDefinition(UpsertAdminSql, new { username, passwordHash }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        statusCache.Forget(username);
        return true;
    }

    /// <summary>
    /// Makes <paramref name="username"/> an enabled admin with this password, creating it if needed; the way back in when
    /// every admin is gone or disabled.
    /// </summary>
    public async Task UpsertAdminAsync(string username, string passwordHash, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(UpsertAdminSql, new { username, passwordHash }, cancellationToken: ct));
        statusCache.Forget(username);
    }

    private const string UpsertAdminSql = """
        INSERT INTO auth.users (username, role, password_hash) VALUES (@username, 'admin', @passwordHash)
        ON CONFLICT ((lower(username))) DO UPDATE
            SET role = 'admin', disabled = false, password_hash = excluded.password_hash,
                session_version = auth.users.session_version + 1, updated_at = now()
        """;

    // The column names are constants of this class, never input.
    private async Task<bool> UpdateAsync<T>(string username, string assignment, T value, CancellationToken ct)
    {
        var sql = $"UPDATE auth.users SET {assignment}, updated_at = now() WHERE lower(username) = lower(@username)";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var changed = await conn.ExecuteAsync(new CommandDefinition(sql, new { username, value }, cancellationToken: ct)) == 1;
        statusCache.Forget(username);
        return changed;
    }
}

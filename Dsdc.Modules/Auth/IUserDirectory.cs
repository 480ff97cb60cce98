namespace Dsdc.Auth;

/// <summary>A user as other modules see it: never the password hash.</summary>
public sealed record UserInfo(long Id, string Username, string Role, bool Disabled, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>Read-only look-ups of users for other modules (who predicted, who labelled).</summary>
public interface IUserDirectory
{
    /// <summary>The user named <paramref name="username"/> (case-insensitive), or null.</summary>
    Task<UserInfo?> FindAsync(string username, CancellationToken ct);

    Task<IReadOnlyList<UserInfo>> ListAsync(CancellationToken ct);
}

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
    public async Task<LoginResult> LogInAsync(string username, string password, IPAddress? client, CancellationToken ct)
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
        if (user is null) hashing.VerifyDecoy(password);
        else outcome = hashing.Verify(user.PasswordHash, password);

        if (user is null || user.Disabled || outcome == PasswordHashing.Outcome.Wrong)
        {
            await throttle.RecordFailureAsync(username, client, ct);
            // The name is logged only when it exists: a "user name" that does not may be a password typed into the wrong field.
            logger.LogWarning("Failed log-in for user {Username} from {Client} ({Reason})", user?.Username ?? "(unknown)", client,
                user is null ? "unknown user" : user.Disabled ? "disabled" : "wrong password");
            return new LoginResult.Invalid();
        }

        if (outcome == PasswordHashing.Outcome.RightButRehash)
            await users.RehashPasswordAsync(user.Username, hashing.Hash(password), ct);
        await throttle.RecordSuccessAsync(user.Username, client, ct);
        logger.LogInformation("User {Username} logged in from {Client}", user.Username, client);
        return new LoginResult.Success(user.Username, user.Role, user.SessionVersion);
    }
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dsdc.Auth;

/// <summary>
/// At start (after the migrations), creates the admin named by <c>Auth:Admin:Username</c> and <c>Auth:Admin:Password</c>
/// while no enabled admin exists. Once one does, those settings are ignored, so changing them never resets a password.
/// </summary>
internal sealed class AdminBootstrapService(
    UserStore users, PasswordHashing hashing, IOptions<AuthOptions> options, ILogger<AdminBootstrapService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A user made before the name was reserved: the job's upkeep would delete their replaced predictions as its own.
        if (await users.FindAsync(Usernames.Software, cancellationToken) is { Disabled: false } namesake)
            logger.LogWarning(
                "User {Username} has the name the software records its own predictions under: their replaced predictions are " +
                "deleted as the job's are, and reviewers cannot tell their answers from the job's. Add another user for them " +
                "('users add NAME --role {Role}') and disable this one ('users disable {Namesake}')",
                namesake.Username, namesake.Role, namesake.Username);

        if (await users.AnyEnabledAdminAsync(cancellationToken)) return;

        var admin = options.Value.Admin;
        if (string.IsNullOrWhiteSpace(admin.Username) || string.IsNullOrEmpty(admin.Password))
        {
            logger.LogWarning(
                "No enabled admin exists and none is configured: set Auth__Admin__Username and Auth__Admin__Password in the " +
                "environment and restart, or run 'users add NAME --role admin'");
            return;
        }

        // Another process (a worker starting beside the app) may create it meanwhile: the store checks again under a lock.
        if (!await users.CreateFirstAdminAsync(admin.Username, hashing.Hash(admin.Password), cancellationToken)) return;
        logger.LogInformation("Created the first admin {Username} from Auth:Admin (no enabled admin existed)", admin.Username);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

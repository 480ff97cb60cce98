using System.Net;
using Dsdc.Auth;
using Dsdc.Inference.Review;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Tests.Auth;

/// <summary>The <c>users</c> command of the real binary, on the database of a running app that then checks the result.</summary>
public sealed class UsersCommandTests(AuthApp app) : IClassFixture<AuthApp>
{
    private const string Password = "correct horse battery";

    private Dictionary<string, string?> Environment() => new()
    {
        ["ConnectionStrings__Dsdc"] = app.Database.ConnectionString,
        ["Dsdc__DataDir"] = app.DataDir,
        ["Dsdc__ModelsDir"] = app.ModelsDir,
        ["Auth__SigningKey"] = DsdcAppFactory.NewSigningKey(),
    };

    private Task<AppProcess.Result> UsersAsync(string? stdin, params string[] args) =>
        AppProcess.RunAsync(["users", .. args], Environment(), stdin);

    [Fact]
    public async Task AddThenListThenLogInWithThePasswordFromStandardInput()
    {
        using var client = app.CreateClient(); // starts the app: migrations applied

        var add = await UsersAsync(Password + "\n", "add", "Paula", "--role", "model-admin");
        var list = await UsersAsync(null, "list");

        Assert.True(add.ExitCode == 0, add.StdErr);
        Assert.Contains("User Paula added with role model-admin", add.StdOut);
        Assert.Equal(0, list.ExitCode);
        Assert.Matches(@"Paula\s+model-admin\s+enabled", list.StdOut);
        Assert.DoesNotContain(Password, add.StdOut + add.StdErr + list.StdOut + list.StdErr);
        Assert.Equal(HttpStatusCode.OK, (await client.RequestTokenAsync("paula", Password)).StatusCode);
    }

    [Fact]
    public async Task SetPasswordReplacesTheOldOne()
    {
        using var client = app.CreateClient();
        Assert.Equal(0, (await UsersAsync(Password + "\n", "add", "quinn", "--role", "user")).ExitCode);

        var set = await UsersAsync("a brand new passphrase\n", "set-password", "quinn");

        Assert.True(set.ExitCode == 0, set.StdErr);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.RequestTokenAsync("quinn", Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.RequestTokenAsync("quinn", "a brand new passphrase")).StatusCode);
    }

    [Fact]
    public async Task DisableStopsLogInsAndExistingTokens()
    {
        using var client = app.CreateClient();
        Assert.Equal(0, (await UsersAsync(Password + "\n", "add", "rita", "--role", "user")).ExitCode);
        client.DefaultRequestHeaders.Authorization = new("Bearer", await client.GetTokenAsync("rita", Password));

        var disable = await UsersAsync(null, "disable", "rita");

        Assert.True(disable.ExitCode == 0, disable.StdErr);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/me", TestContext.Current.CancellationToken)).StatusCode);
        client.DefaultRequestHeaders.Authorization = null;
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.RequestTokenAsync("rita", Password)).StatusCode);
        Assert.Matches(@"rita\s+user\s+disabled", (await UsersAsync(null, "list")).StdOut);
    }

    [Fact]
    public async Task AWeakPasswordADuplicateAndAnUnknownUserAreRefusedWithExitCode1()
    {
        using var client = app.CreateClient();
        Assert.Equal(0, (await UsersAsync(Password + "\n", "add", "sam", "--role", "user")).ExitCode);

        var weak = await UsersAsync("short\n", "add", "tom", "--role", "user");
        var duplicate = await UsersAsync(Password + "\n", "add", "SAM", "--role", "user");
        var unknown = await UsersAsync(null, "disable", "nobody");

        Assert.Equal(1, weak.ExitCode);
        Assert.Contains("too weak: at least 12 characters", weak.StdErr);
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("already exists", duplicate.StdErr);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("No user named nobody", unknown.StdErr);
    }

    [Fact]
    public async Task WrongUsageExitsWith2()
    {
        using var client = app.CreateClient();

        var onCommandLine = await UsersAsync(null, "add", "uma", "--role", "user", "--password", Password);
        var badRole = await UsersAsync(Password + "\n", "add", "uma", "--role", "root");
        var nothing = await UsersAsync(null);

        Assert.Equal(2, onCommandLine.ExitCode);
        Assert.Contains("standard input, never from the command line", onCommandLine.StdErr);
        Assert.Equal(2, badRole.ExitCode);
        Assert.Contains("Unknown role 'root'", badRole.StdErr);
        Assert.Equal(2, nothing.ExitCode);
        Assert.Contains("Usage: users add NAME --role ROLE", nothing.StdErr);
    }

    [Fact]
    public async Task TheLastEnabledAdminCannotBeDisabled()
    {
        using var client = app.CreateClient();

        var result = await UsersAsync(null, "disable", AuthApp.AdminName);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("last enabled admin", result.StdErr);
    }

    [Fact]
    public async Task TheNameTheSoftwareRecordsItsOwnPredictionsUnderIsRefused()
    {
        using var client = app.CreateClient();

        var lower = await UsersAsync(Password + "\n", "add", NewDocumentPredictions.UserName, "--role", "model-admin");
        var upper = await UsersAsync(Password + "\n", "add", NewDocumentPredictions.UserName.ToUpperInvariant(), "--role", "admin");

        Assert.Equal((2, 2), (lower.ExitCode, upper.ExitCode));
        Assert.Contains("'dsdc' is reserved for the predictions the software records itself", lower.StdErr);
        Assert.Contains("is reserved", upper.StdErr);
        // (Another test here adds the name as an older version let it be added, with the role 'user'.)
        Assert.DoesNotMatch(@"(?im)^dsdc\s+(model-admin|admin)\s", (await UsersAsync(null, "list")).StdOut);
    }

    [Fact]
    public async Task AUserMadeWithThatNameBeforeItWasReservedIsReportedAtStart()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = app.CreateClient();
        var store = app.Services.GetRequiredService<UserStore>();
        Assert.True(await store.AddAsync("Dsdc", Roles.User, "hash-of-an-older-install", ct)); // as an older version let it be added
        try
        {
            var startup = app.Services.GetServices<IHostedService>().OfType<AdminBootstrapService>().Single();
            await startup.StartAsync(ct);

            Assert.Contains(app.Log.Lines, l => l.StartsWith("Warning User \"Dsdc\" has the name the software records its own predictions under")
                && l.Contains($"users add NAME --role \"{Roles.User}\"") && l.Contains("users disable \"Dsdc\""));
        }
        finally
        {
            Assert.Equal(0, (await UsersAsync(null, "disable", "Dsdc")).ExitCode); // as the warning says
        }
        var enable = await UsersAsync(null, "enable", "dsdc");
        Assert.Equal(2, enable.ExitCode);
        Assert.Contains("is reserved", enable.StdErr);
    }
}

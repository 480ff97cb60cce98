using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Auth;

/// <summary>The binary refuses to start, as a server or for a command, without a usable signing key or admin setting.</summary>
public sealed class AuthConfigurationTests
{
    private static Dictionary<string, string?> Environment(string? signingKey) => new()
    {
        ["ConnectionStrings__Dsdc"] = "Host=127.0.0.1;Port=1;Database=none;Username=none;Timeout=1",
        ["Dsdc__DataDir"] = Path.Combine(Path.GetTempPath(), "dsdc-auth-config-test"),
        ["Database__StartupWaitSeconds"] = "0",
        ["Auth__SigningKey"] = signingKey,
    };

    [Theory]
    [InlineData("serve")]
    [InlineData("users")]
    public async Task ATooShortSigningKeyStopsTheAppNamingTheKey(string mode)
    {
        const string shortKey = "only-31-bytes-long-0123456789ab";

        var result = await AppProcess.RunAsync(mode == "serve" ? [] : ["users", "list"], Environment(shortKey));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Auth:SigningKey: is too short: at least 32 bytes", result.StdErr);
        Assert.Contains("Auth__SigningKey", result.StdErr);
        Assert.DoesNotContain(shortKey, result.StdOut + result.StdErr);
    }

    [Fact]
    public async Task AMissingSigningKeyStopsTheApp()
    {
        var result = await AppProcess.RunAsync(["migrate"], Environment(null));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Auth:SigningKey: is required", result.StdErr);
    }

    [Fact]
    public async Task AWeakFirstAdminPasswordIsRefusedNamingTheKey()
    {
        var env = Environment(DsdcAppFactory.NewSigningKey());
        env["Auth__Admin__Username"] = "admin";
        env["Auth__Admin__Password"] = "short-pw";

        var result = await AppProcess.RunAsync([], env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Auth:Admin:Password: is too weak", result.StdErr);
        Assert.DoesNotContain("short-pw", result.StdOut + result.StdErr);
    }

    [Fact]
    public async Task AFirstAdminNamedAsTheSoftwareIsRefusedNamingTheKey()
    {
        var env = Environment(DsdcAppFactory.NewSigningKey());
        env["Auth__Admin__Username"] = "DSDC";
        env["Auth__Admin__Password"] = "a long enough passphrase";

        var result = await AppProcess.RunAsync([], env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Auth:Admin:Username: 'dsdc' is reserved for the predictions the software records itself", result.StdErr);
    }
}

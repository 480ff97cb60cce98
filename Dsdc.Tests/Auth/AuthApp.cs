using Dsdc.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace Dsdc.Tests.Auth;

/// <summary>The app with a first admin from configuration and its log captured.</summary>
public class AuthApp : DsdcAppFactory
{
    public const string AdminName = "root";
    public string AdminPassword { get; } = AuthTestHelpers.NewPassword();
    public LogCapture Log { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Auth:Admin:Username"] = AdminName,
        ["Auth:Admin:Password"] = AdminPassword,
        // Changes made by another process (the CLI) must show at once in these tests.
        ["Auth:UserCacheSeconds"] = "0",
        // Nothing here enqueues work: no job server needed.
        ["Jobs:Server"] = "false",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.AddSingleton<ILogEventSink>(Log));
    }
}

using Dsdc.Shared;
using Dsdc.Shared.Hosting;

namespace Dsdc.Bench;

/// <summary>
/// The product's host with every module, so a command reads the same appsettings.json and environment as Dsdc.Web;
/// only commands run here (no command: the list of them). A named class rather than top-level statements, so the
/// tests, which see this assembly's internals, still find one <c>Program</c> (Dsdc.Web's).
/// </summary>
internal static class BenchProgram
{
    public static async Task<int> Main(string[] args)
    {
        try
        {
            if (args.Length == 0) args = ["help"]; // a command's logging: standard output holds only the list
            var builder = DsdcHost.CreateBuilder(args);
            builder.AddDsdcModules();
            builder.AddBenchCommands();
            var app = builder.Build();
            return await app.RunDsdcAsync(args, configureServer: null);
        }
        catch (Exception ex) when (ConfigurationException.ProblemsOf(ex) is { } problems)
        {
            // A setting read while the modules register (a missing key, a value that does not convert).
            await DsdcHost.WriteConfigurationErrorAsync(problems);
            return 2;
        }
    }
}

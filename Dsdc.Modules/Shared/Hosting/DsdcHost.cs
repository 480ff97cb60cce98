using Dsdc.Shared.Cli;
using Dsdc.Shared.Database;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Events;

namespace Dsdc.Shared.Hosting;

/// <summary>Creates the one host of DSDC and runs it either as the server or as a CLI command.</summary>
public static class DsdcHost
{
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var cli = IsCommand(args);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot.Resolve() });
        // The usage needs the commands, which need a connection string to be registered, though none opens it for help.
        if (AsksForHelp(args) && string.IsNullOrWhiteSpace(builder.Configuration[DatabaseModule.ConnectionStringKey]))
            builder.Configuration.AddInMemoryCollection([new(DatabaseModule.ConnectionStringKey, "Host=localhost")]);
        // A worker, and a web-only replica (Jobs:Server false), leave the shared schedules to the app unless told otherwise:
        // first source, so any setting overrides it.
        var webOnly = bool.TryParse(builder.Configuration[$"{Jobs.JobsOptions.Section}:{nameof(Jobs.JobsOptions.Server)}"], out var server) && !server;
        if (args.Length > 0 && args[0] == WorkerCommand || webOnly)
            builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
            {
                InitialData = [Jobs.JobsOptions.WorkerDefault],
            });
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext()
                // Commands print their results on standard output; their logs go to standard error.
                .WriteTo.Console(standardErrorFromLevel: cli ? LogEventLevel.Verbose : null,
                    outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
            if (cli) logger.MinimumLevel.Override("Microsoft", LogEventLevel.Warning);
        }, preserveStaticLogger: true); // each host its own logger: several hosts can share a process (tests, tools)
        return builder;
    }

    /// <summary>Runs the job servers (queues from Jobs:Queues) with health and metrics only: no UI, no API.</summary>
    public const string WorkerCommand = "worker";

    /// <summary>A command, or a request for help (<c>--help</c>, <c>-h</c>): anything but serving.</summary>
    private static bool IsCommand(string[] args) =>
        args.Length > 0 && (IsHelpOption(args[0]) || !args[0].StartsWith('-') && args[0] != WorkerCommand);

    private static bool IsHelpOption(string arg) => arg is "--help" or "-h" or "-?";

    /// <summary>The arguments ask for the usage only (<c>help</c>, <c>--help</c>, <c>COMMAND --help</c>): no database is
    /// opened, so a machine without settings still gets it.</summary>
    public static bool AsksForHelp(string[] args) => args.Length > 0 && (args[0] == "help" || Before(args, "--").Any(IsHelpOption));

    /// <summary>The arguments before <paramref name="end"/>: after `--` come files, one named -h included.</summary>
    private static IEnumerable<string> Before(IEnumerable<string> args, string end) => args.TakeWhile(a => a != end);

    /// <summary>
    /// Serves when no command is given, after <paramref name="configureServer"/> has set up the pipeline and endpoints
    /// (without it, a host of commands only, lists them); otherwise runs the command (no pipeline, no Hangfire server)
    /// and returns its exit code.
    /// </summary>
    public static async Task<int> RunDsdcAsync(this WebApplication app, string[] args, Action<WebApplication>? configureServer,
        Action<WebApplication>? configureWorker = null)
    {
        // `--help` first, or anywhere in the server's own arguments (`--urls ... --help`, `worker --help`): the list of commands.
        if (args.Length > 0 && (IsHelpOption(args[0]) || !IsCommand(args) && Before(args, "--").Any(IsHelpOption))) args = ["help"];
        try
        {
            if (configureServer is null && !IsCommand(args)) return await RunCommandAsync(app, ["help"], serves: false);
            if (!IsCommand(args))
            {
                var worker = args.Length > 0 && args[0] == WorkerCommand;
                (worker && configureWorker is not null ? configureWorker : configureServer!)(app);
                await app.RunAsync();
                return 0;
            }
            return await RunCommandAsync(app, args, serves: configureServer is not null);
        }
        catch (Exception ex) when (ConfigurationException.ProblemsOf(ex) is { } problems)
        {
            // Validation (several sections at once: one AggregateException), a missing key, a value that does not convert.
            await WriteConfigurationErrorAsync(problems);
            return 2;
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    /// <summary>Prints the settings to fix: the host, the commands and the tools all say it the same way.</summary>
    public static Task WriteConfigurationErrorAsync(IReadOnlyList<string> problems) =>
        Console.Error.WriteLineAsync("Configuration error:\n  " + string.Join("\n  ", problems));

    private static async Task<int> RunCommandAsync(WebApplication app, string[] args, bool serves)
    {
        var commands = app.Services.GetServices<ICliCommand>().ToDictionary(c => c.Name, StringComparer.Ordinal);
        if (args is ["help", var topic, ..] && commands.TryGetValue(topic, out var asked))
        {
            await Console.Out.WriteLineAsync(UsageOf(asked));
            return 0;
        }
        if (args[0] is "help" || !commands.TryGetValue(args[0], out var command))
        {
            var usage = string.Join("\n", commands.Values.OrderBy(c => c.Name).Select(c => $"  {c.Name,-10} {c.Usage}"));
            var program = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "Dsdc.Web";
            var text = serves
                ? $"Usage: {program} [COMMAND [ARGS...]]\nWithout a command, serves the web app, the API and the jobs.\nCommands:\n" +
                  $"  {WorkerCommand,-10} run the background jobs only (queues from Jobs:Queues), with /health and /metrics\n{usage}"
                : $"Usage: {program} COMMAND [ARGS...]\nCommands:\n{usage}";
            await (args[0] is "help" ? Console.Out : Console.Error).WriteLineAsync(text);
            return args[0] is "help" ? 0 : 2;
        }

        // A command asked for its usage, or given an option it does not know, does nothing: `train --help` must not
        // train, nor `train --run 5` train without the runs asked for.
        if (Before(args.Skip(1), "--").Any(IsHelpOption))
        {
            await Console.Out.WriteLineAsync(UsageOf(command));
            return 0;
        }
        if (UnknownOption(command, args.Skip(1).ToList()) is { } unknown)
        {
            await Console.Error.WriteLineAsync($"{command.Name} has no option {unknown}\n{UsageOf(command)}");
            return 2;
        }

        // The same validation the server does at start, without starting the server or Hangfire.
        app.Services.GetService<IStartupValidator>()?.Validate();
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        // Commands work on the same schema as the server: bring it up to date first, as the server does at start.
        if (command.Name != "migrate" && app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStart)
            await app.Services.GetRequiredService<MigrationRunner>().MigrateAsync(cancel.Token);
        await using var scope = app.Services.CreateAsyncScope();
        var scoped = scope.ServiceProvider.GetServices<ICliCommand>().First(c => c.Name == command.Name);
        try
        {
            return await scoped.RunAsync(args.Skip(1).ToArray(), cancel.Token);
        }
        catch (CommandLineException ex)
        {
            await Console.Error.WriteLineAsync($"{command.Name}: {ex.Message}\n{UsageOf(command)}");
            return 2;
        }
    }

    private static string UsageOf(ICliCommand command) => $"Usage: {command.Name} {command.Usage}";

    /// <summary>The first <c>--name</c> argument the command does not declare in <see cref="ICliCommand.Options"/> (a
    /// declared option's value is skipped, whatever it looks like); null when it declares none.</summary>
    internal static string? UnknownOption(ICliCommand command, IReadOnlyList<string> args)
    {
        if (command.Options is not { } declared) return null;
        var options = declared.ToDictionary(o => o.Split(' ')[0], o => o.Contains(' '), StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--") return null; // what follows is positional, a file named --x included
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) continue;
            // A setting for this run (`--Pipeline:Parallelism=2`, `--Ocr:Languages eng`), which the host's configuration reads.
            if (args[i].Contains(':'))
            {
                if (!args[i].Contains('=') && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) i++;
                continue;
            }
            if (!options.TryGetValue(args[i], out var valued)) return args[i];
            if (valued) i++;
        }
        return null;
    }
}

using Dsdc.Shared.Cli;
using Dsdc.Shared.Database;
using Microsoft.AspNetCore.Builder;
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
        // A worker leaves the shared schedules to the app unless told otherwise: first source, so any setting overrides it.
        if (args.Length > 0 && args[0] == WorkerCommand)
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

    private static bool IsCommand(string[] args) => args.Length > 0 && !args[0].StartsWith('-') && args[0] != WorkerCommand;

    /// <summary>
    /// Serves when no command is given, after <paramref name="configureServer"/> has set up the pipeline and endpoints
    /// (without it, a host of commands only, lists them); otherwise runs the command (no pipeline, no Hangfire server)
    /// and returns its exit code.
    /// </summary>
    public static async Task<int> RunDsdcAsync(this WebApplication app, string[] args, Action<WebApplication>? configureServer,
        Action<WebApplication>? configureWorker = null)
    {
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
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync("Configuration error:\n  " + string.Join("\n  ", ex.Failures));
            return 2;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0 && ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            // Several sections invalid at once: the start-up validation gathers them in one AggregateException.
            await Console.Error.WriteLineAsync("Configuration error:\n  " +
                string.Join("\n  ", ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)));
            return 2;
        }
        catch (ConfigurationException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private static async Task<int> RunCommandAsync(WebApplication app, string[] args, bool serves)
    {
        var commands = app.Services.GetServices<ICliCommand>().ToDictionary(c => c.Name, StringComparer.Ordinal);
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
            await Console.Error.WriteLineAsync($"{command.Name}: {ex.Message}\nUsage: {command.Name} {command.Usage}");
            return 2;
        }
    }
}

using Dsdc.Shared.Cli;
using Dsdc.Shared.Database;
using Dsdc.Shared.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Serilog;

namespace Dsdc.Shared;

public static class SharedModule
{
    /// <summary>What every module stands on: paths, the database, Hangfire, ProblemDetails, OpenAPI, the CLI.</summary>
    public static IHostApplicationBuilder AddSharedModule(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<DsdcOptions>(DsdcOptions.Section);
        builder.Services.AddSingleton(sp =>
        {
            var paths = new DsdcPaths(builder.Environment.ContentRootPath, sp.GetRequiredService<IOptions<DsdcOptions>>().Value);
            paths.EnsureCreated();
            return paths;
        });
        builder.AddDatabase();
        builder.AddJobs();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
        // Cookie and antiforgery keys live with the data (a volume shared by every replica), so sign-ins survive
        // restarts and work on whichever process answers.
        var dataDir = Path.GetFullPath(builder.Configuration[$"{DsdcOptions.Section}:DataDir"] is { Length: > 0 } d ? d : "data",
            builder.Environment.ContentRootPath);
        builder.Services.AddDataProtection().SetApplicationName("dsdc")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDir, ".keys")));
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton<ICliCommand, MigrateCommand>();
        return builder;
    }

    /// <summary>The request pipeline shared by every endpoint.</summary>
    public static WebApplication UseSharedPipeline(this WebApplication app)
    {
        app.UseSerilogRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.MapOpenApi();
        return app;
    }
}

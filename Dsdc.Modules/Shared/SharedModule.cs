using Dsdc.Shared.Cli;
using Dsdc.Shared.Database;
using Dsdc.Shared.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using System.Text.Json.Serialization;
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
        // Every error answer is a ProblemDetails with a type, whichever component wrote it.
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = Http.ProblemTypes.Apply);
        // The DataAnnotations of the API's request records are enforced before a handler runs (400 ValidationProblem).
        // Called here, inside Dsdc.Modules: the validation source generator only sees the endpoints of its own assembly.
        builder.Services.AddValidation();
        // A number must be sent as a JSON number: {"label": "7"} is a validation error, like {"label": "abc"}.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
        // A request the framework could not bind (bad JSON, a string where a number belongs, a body cut short) is the
        // client's error in every environment: its 4xx, not 500 (Development throws these instead of answering 400).
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.StatusCodeSelector = ex =>
            ex is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : Microsoft.AspNetCore.Http.StatusCodes.Status500InternalServerError);
        // Cookie and antiforgery keys live with the data (a volume shared by every replica), so sign-ins survive
        // restarts and work on whichever process answers.
        var dataDir = Path.GetFullPath(builder.Configuration[$"{DsdcOptions.Section}:DataDir"] is { Length: > 0 } d ? d : "data",
            builder.Environment.ContentRootPath);
        builder.Services.AddDataProtection().SetApplicationName("dsdc")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDir, ".keys")));
        builder.Services.AddOpenApi();
        Http.ReverseProxy.Add(builder);
        builder.Services.AddSingleton<ICliCommand, MigrateCommand>();
        return builder;
    }

    /// <summary>
    /// The request pipeline shared by every endpoint. <paramref name="observe"/> (the request metrics) runs right after
    /// routing, outside the error handling and the authentication: it sees each request's route template and its final
    /// status, a 500 or 503 made from an exception and a 401, 403 or 429 included.
    /// </summary>
    public static WebApplication UseSharedPipeline(this WebApplication app, Action<WebApplication>? observe = null)
    {
        Http.ReverseProxy.Use(app);
        app.UseSerilogRequestLogging();
        app.UseRouting();
        app.Use(Http.RequestBodies.LimitAllButUploads);
        observe?.Invoke(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages(new StatusCodePagesOptions { HandleAsync = Http.StatusPages.WriteAsync });
        app.MapOpenApi();
        return app;
    }
}

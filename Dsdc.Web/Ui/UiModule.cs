using Dsdc.Auth;
using Dsdc.Inference.Api;
using Microsoft.Extensions.FileProviders;

namespace Dsdc.Web.Ui;

/// <summary>The Razor Pages web UI: pages, their static files (embedded: no CDN, no files to deploy), page images, security headers.</summary>
public static class UiModule
{
    public static IHostApplicationBuilder AddDsdcUi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorPages(o =>
        {
            o.Conventions.AuthorizeFolder("/", AuthPolicies.User);
            o.Conventions.AllowAnonymousToPage("/Login");
            o.Conventions.AllowAnonymousToPage("/Denied");
            o.Conventions.AuthorizePage("/Models/Index", AuthPolicies.ModelAdmin);
            o.Conventions.AuthorizeFolder("/Pipelines", AuthPolicies.Admin);
        });
        builder.Services.AddSingleton<UiQueries>();
        return builder;
    }

    public static WebApplication MapDsdcUi(this WebApplication app)
    {
        app.Use(SecurityHeaders);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new EmbeddedFileProvider(typeof(UiModule).Assembly, "Dsdc.Web.wwwroot"),
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "public, max-age=3600",
        });
        app.MapRazorPages();
        var images = app.MapGroup("/ui/documents/{id}").RequireAuthorization(AuthPolicies.User);
        images.MapGet("/page.png", async (string id, PageImages pages, CancellationToken ct) =>
            await pages.PagePngAsync(id, ct) is { } png ? Results.File(png, "image/png") : Results.NotFound());
        images.MapGet("/thumb.png", async (string id, PageImages pages, CancellationToken ct) =>
            await pages.ThumbnailPngAsync(id, ct) is { } png ? Results.File(png, "image/png") : Results.NotFound());
        return app;
    }

    private static Task SecurityHeaders(HttpContext context, RequestDelegate next)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        // The Hangfire dashboard has inline scripts of its own: it keeps only the headers that do not break it.
        if (!context.Request.Path.StartsWithSegments("/hangfire"))
        {
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
                "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'";
        }
        else
        {
            headers.XFrameOptions = "SAMEORIGIN";
        }
        return next(context);
    }
}

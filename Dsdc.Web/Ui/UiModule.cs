using Dsdc.Auth;
using Dsdc.Inference.Api;
using Dsdc.Pipeline;
using Dsdc.Shared.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

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
            // The two forms that upload files: only they read bodies past RequestBodies.OtherBodyBytes, and the upload
            // middlewares below find them by this, whatever route the page is given.
            o.Conventions.AddPageApplicationModelConvention("/Classify/Index", m => m.EndpointMetadata.Add(new UploadEndpoint(Page: true)));
            o.Conventions.AddPageApplicationModelConvention("/Upload/Index", m => m.EndpointMetadata.Add(new UploadEndpoint(Batch: true, Page: true)));
        });
        builder.Services.AddSingleton<UiQueries>();
        return builder;
    }

    /// <summary>The upload form a POST is for (the classify page, or the upload page: <see cref="UploadEndpoint.Batch"/>),
    /// by its endpoint, so under any route the page has; null for any other request.</summary>
    private static UploadEndpoint? UploadForm(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method) && context.GetEndpoint()?.Metadata.GetMetadata<UploadEndpoint>() is { Page: true } form ? form : null;

    /// <summary>The classify form's answer when the API's concurrency limit (<see cref="PredictionGate"/>) is reached: a
    /// page that says so, still 503 with Retry-After, instead of the API's JSON.</summary>
    internal static Task WriteClassifyBusyPageAsync(HttpContext context, CancellationToken ct)
    {
        var retry = context.RequestServices.GetRequiredService<IOptions<PredictionApiOptions>>().Value.RetryAfterSeconds;
        return WriteBusyPageAsync(context, UploadLimits.BusyMessage(retry), "Nothing was classified or recorded.", "/classify", "Classify", ct);
    }

    /// <summary>A page that says the server is busy: 503 with Retry-After, a link back to the form.</summary>
    private static async Task WriteBusyPageAsync(HttpContext context, string message, string outcome, string back, string backName, CancellationToken ct)
    {
        var retry = context.RequestServices.GetRequiredService<IOptions<PredictionApiOptions>>().Value.RetryAfterSeconds;
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Busy - DSDC</title>" +
            "<link rel=\"stylesheet\" href=\"/css/site.css\"></head><body><main class=\"container\"><h1>Busy</h1>" +
            $"<p role=\"alert\">{System.Net.WebUtility.HtmlEncode(message)} {outcome}</p>" +
            $"<p><a href=\"{back}\">Back to {backName}</a></p></main></body></html>", ct);
    }

    /// <summary>
    /// The classify and upload forms hold their share of <c>Api:MaxUploadBytesInFlight</c> (<see cref="UploadBudget"/>) as
    /// the API's uploads do: reserved before the form is read (the page's model binding reads it before the page runs),
    /// given back when the request ends. Beyond it, a page that says so, 503 with Retry-After.
    /// </summary>
    private static async Task ReserveUploadBytes(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (UploadForm(context) is not { } form)
        {
            await next(context);
            return;
        }
        var classify = !form.Batch;
        var api = context.RequestServices.GetRequiredService<IOptions<PredictionApiOptions>>().Value;
        var limit = classify ? UploadLimits.RequestBytes(api) : UploadLimits.BatchRequestBytes(api);
        if (!context.RequestServices.GetRequiredService<UploadBudget>().TryReserve(request, limit))
        {
            context.Response.Headers.Connection = "close"; // the body is not read
            await WriteBusyPageAsync(context, UploadLimits.UploadsBusyMessage(api.RetryAfterSeconds),
                classify ? "Nothing was classified or recorded." : "Nothing was uploaded.",
                classify ? "/classify" : "/upload", classify ? "Classify" : "Upload", context.RequestAborted);
            return;
        }
        await next(context);
    }

    /// <summary>
    /// First in the pipeline: the security headers go on every answer, also the 401, 403, 404 and 503 written by
    /// authentication or the exception handler before any page runs (they are added as the response starts,
    /// so a handler that clears the response does not lose them).
    /// </summary>
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() => AddSecurityHeaders(context));
            return next(context);
        });
        return app;
    }

    public static WebApplication MapDsdcUi(this WebApplication app)
    {
        app.Use(RefuseOversizedClassifyUploads);
        app.Use(AllowBatchUploads);
        app.Use(ReserveUploadBytes);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new EmbeddedFileProvider(typeof(UiModule).Assembly, "Dsdc.Web.wwwroot"),
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "public, max-age=3600",
        });
        app.MapRazorPages();
        var images = app.MapGroup("/ui/documents/{id}").RequireAuthorization(AuthPolicies.User);
        // A document's id is the SHA-1 of its file, so its page never changes: the browser keeps it (the review page
        // reloads after every decision, and a TIFF or PDF page is rendered again for each request). The thumbnail is
        // the stored processed page, which a newer preprocessing can replace: kept for an hour.
        images.MapGet("/page.png", async (string id, PageImages pages, HttpContext http, CancellationToken ct) =>
            await pages.PagePngAsync(id, ct) is { } png ? Cached(http, png, PageImageMaxAge) : Results.NotFound());
        images.MapGet("/thumb.png", async (string id, PageImages pages, HttpContext http, CancellationToken ct) =>
            await pages.ThumbnailPngAsync(id, ct) is { } png ? Cached(http, png, ThumbnailMaxAge) : Results.NotFound());
        app.MapGet("/ui/uploads/{batch}/status", async (string batch, DocumentUploads uploads, CancellationToken ct) =>
            await uploads.StatusAsync(batch, ct) is { } status ? Results.Json(status) : Results.NotFound())
            .RequireAuthorization(AuthPolicies.User);
        return app;
    }

    internal static readonly TimeSpan PageImageMaxAge = TimeSpan.FromDays(1);
    internal static readonly TimeSpan ThumbnailMaxAge = TimeSpan.FromHours(1);

    /// <summary>A page image the signed-in user may keep (never a shared cache: the pages are behind log-in).</summary>
    private static IResult Cached(HttpContext http, byte[] png, TimeSpan maxAge)
    {
        http.Response.Headers.CacheControl = $"private, max-age={(long)maxAge.TotalSeconds}";
        return Results.File(png, "image/png");
    }

    /// <summary>
    /// The upload page's form holds many files: its body may reach Api:MaxBatchUploadBytes rather than one file's limit
    /// and each file may be read up to that size too, so that the page itself refuses one over Api:MaxUploadBytes with a
    /// message that names it (the form reader's own per-file limit would fail the antiforgery check first, with a bare
    /// 400). A bigger body gets a plain 413 that names the limit (the page's script refuses it before it is sent).
    /// </summary>
    private static async Task AllowBatchUploads(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (UploadForm(context) is { Batch: true })
        {
            var api = context.RequestServices.GetRequiredService<IOptions<PredictionApiOptions>>().Value;
            if (request.ContentLength > UploadLimits.BatchRequestBytes(api))
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                context.Response.Headers.Connection = "close";
                await context.Response.WriteAsync(UploadLimits.BatchTooLargeMessage(api), context.RequestAborted);
                return;
            }
            UploadLimits.AllowBatchBody(context, api);
        }
        await next(context);
    }

    /// <summary>
    /// A classify form over Api:MaxUploadBytes would otherwise fail inside the antiforgery check with a bare 400. It is read
    /// to its end and thrown away (up to four times the limit, so that the browser gets to read the answer), then the page
    /// says what the limit is. Bigger bodies get a plain 413 that names the limit.
    /// </summary>
    private static async Task RefuseOversizedClassifyUploads(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (UploadForm(context) is not { Batch: false })
        {
            await next(context);
            return;
        }
        var api = context.RequestServices.GetRequiredService<IOptions<PredictionApiOptions>>().Value;
        var limit = UploadLimits.RequestBytes(api);
        if (request.ContentLength is not { } length || length <= limit)
        {
            await next(context);
            return;
        }
        if (length <= 4 * limit && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = length;
            await request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            context.Response.StatusCode = StatusCodes.Status303SeeOther;
            context.Response.Headers.Location = "/classify?tooLarge=true";
            return;
        }
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        context.Response.Headers.Connection = "close";
        await context.Response.WriteAsync(UploadLimits.TooLargeMessage(api), context.RequestAborted);
    }

    private static Task AddSecurityHeaders(HttpContext context)
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
        return Task.CompletedTask;
    }
}

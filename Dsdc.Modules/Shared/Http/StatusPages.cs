using System.Net;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Dsdc.Shared.Http;

/// <summary>
/// The body of an error answer that has none (a page's <c>NotFound()</c>, a route that matched nothing, a 405): a
/// browser opening a page gets a page that says what happened and links back, not a ProblemDetails JSON document or
/// "Status Code: 404; Not Found"; the API, the health, metrics and image endpoints, and any client that does not ask for
/// HTML keep the ProblemDetails the API documents.
/// </summary>
public static class StatusPages
{
    private static readonly string[] MachinePaths = ["/api", "/ui", "/health", "/metrics", "/openapi", "/hangfire"];

    public static async Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        if (WantsPage(http.Request))
        {
            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync(Page(status), http.RequestAborted);
            return;
        }
        if (http.RequestServices.GetService<IProblemDetailsService>() is { } problems
            && await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = status } }))
            return;
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync($"{status} {ReasonPhrases.GetReasonPhrase(status)}", http.RequestAborted);
    }

    /// <summary>A browser's navigation to a page: HTML asked for, and not one of the machine endpoints.</summary>
    internal static bool WantsPage(HttpRequest request) =>
        !MachinePaths.Any(p => request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase))
        && request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));

    private static string Page(int status)
    {
        var (title, text) = status switch
        {
            StatusCodes.Status404NotFound => ("Not found",
                "Nothing is at this address: the document, run or prediction it names does not exist (it may have been removed), or the address is mistyped."),
            StatusCodes.Status400BadRequest => ("Bad request", "The address or the form sent could not be read."),
            StatusCodes.Status405MethodNotAllowed => ("Not allowed", "This address does not take that kind of request."),
            _ => (ReasonPhrases.GetReasonPhrase(status), "The request could not be answered."),
        };
        return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
            $"<title>{WebUtility.HtmlEncode(title)} - DSDC</title><link rel=\"stylesheet\" href=\"/css/site.css\"></head>" +
            $"<body><main class=\"container\"><h1>{WebUtility.HtmlEncode(title)}</h1><p data-testid=\"status-page\">{WebUtility.HtmlEncode(text)} ({status})</p>" +
            "<p><a href=\"/\">Home</a> · <a href=\"/documents\">Documents</a> · <a href=\"/classify\">Classify</a></p></main></body></html>";
    }
}

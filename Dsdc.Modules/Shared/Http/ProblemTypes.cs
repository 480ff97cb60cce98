using Microsoft.AspNetCore.Http;

namespace Dsdc.Shared.Http;

/// <summary>
/// Gives every ProblemDetails a <c>type</c>: ASP.NET fills it in for the common statuses only, not for 413 or 429.
/// </summary>
public static class ProblemTypes
{
    private static readonly Dictionary<int, string> Extra = new()
    {
        [StatusCodes.Status413PayloadTooLarge] = "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        [StatusCodes.Status414UriTooLong] = "https://tools.ietf.org/html/rfc9110#section-15.5.15",
        [StatusCodes.Status429TooManyRequests] = "https://tools.ietf.org/html/rfc6585#section-4",
        [StatusCodes.Status431RequestHeaderFieldsTooLarge] = "https://tools.ietf.org/html/rfc6585#section-5",
        [StatusCodes.Status501NotImplemented] = "https://tools.ietf.org/html/rfc9110#section-15.6.2",
    };

    public static void Apply(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (!string.IsNullOrEmpty(problem.Type)) return;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        problem.Type = Extra.TryGetValue(status, out var type) ? type
            : status >= 500 ? "https://tools.ietf.org/html/rfc9110#section-15.6"
            : "https://tools.ietf.org/html/rfc9110#section-15.5";
    }
}

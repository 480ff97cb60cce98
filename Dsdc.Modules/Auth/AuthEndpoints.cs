using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dsdc.Auth;

/// <summary>The JSON body of <c>POST /api/v1/session</c>.</summary>
public sealed record SessionRequest(string? Username, string? Password);

/// <summary>Who the caller is.</summary>
public sealed record CurrentUserResponse(string Username, string Role);

internal static class AuthEndpoints
{
    private const string InvalidCredentials = "The user name or password is wrong, or the account is disabled.";

    /// <summary>OAuth2 resource owner password grant (RFC 6749 section 4.3).</summary>
    public static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> IssueToken(
        [FromForm(Name = "username")] string? username,
        [FromForm(Name = "password")] string? password,
        [FromForm(Name = "grant_type")] string? grantType,
        HttpContext http, ILoginService logins, TokenService tokens, CancellationToken ct)
    {
        if (grantType is { Length: > 0 } and not "password")
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Unsupported grant type",
                detail: "Only grant_type=password is supported.", extensions: new Dictionary<string, object?> { ["error"] = "unsupported_grant_type" });
        if (Missing(username, password) is { } missing) return missing;

        // Tokens must not be cached by anything between the client and the server (RFC 6749 section 5.1).
        http.Response.Headers.CacheControl = "no-store";
        return await logins.LogInAsync(username!, password!, http.Connection.RemoteIpAddress, ct) switch
        {
            LoginResult.Success s => TypedResults.Ok(tokens.Issue(s.Username, s.Role, s.SessionVersion)),
            LoginResult.Throttled t => Throttled(http, t),
            _ => Unauthorized(),
        };
    }

    /// <summary>
    /// Signs in with the cookie (for the browser UI and tests). Accepting JSON only is the CSRF defence: a cross-site
    /// form cannot send application/json, and no CORS policy lets a script do it.
    /// </summary>
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> StartSession(
        SessionRequest request, HttpContext http, ILoginService logins, CancellationToken ct)
    {
        if (Missing(request.Username, request.Password) is { } missing) return missing;
        switch (await logins.LogInAsync(request.Username!, request.Password!, http.Connection.RemoteIpAddress, ct))
        {
            case LoginResult.Success s:
                await AuthCookies.SignInAsync(http, s);
                return TypedResults.NoContent();
            case LoginResult.Throttled t:
                return Throttled(http, t);
            default:
                return Unauthorized();
        }
    }

    public static async Task<NoContent> EndSession(HttpContext http)
    {
        await AuthCookies.SignOutAsync(http);
        return TypedResults.NoContent();
    }

    public static Ok<CurrentUserResponse> Me(ClaimsPrincipal user) =>
        TypedResults.Ok(new CurrentUserResponse(user.GetUserName()!, user.GetRole()!));

    public static async Task<Ok<IReadOnlyList<UserInfo>>> ListUsers(IUserDirectory users, CancellationToken ct) =>
        TypedResults.Ok(await users.ListAsync(ct));

    private static ValidationProblem? Missing(string? username, string? password)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(username)) errors["username"] = ["The user name is required."];
        if (string.IsNullOrEmpty(password)) errors["password"] = ["The password is required."];
        return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors);
    }

    private static ProblemHttpResult Unauthorized() =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Invalid credentials", detail: InvalidCredentials,
            extensions: new Dictionary<string, object?> { ["error"] = "invalid_grant" });

    private static ProblemHttpResult Throttled(HttpContext http, LoginResult.Throttled throttled)
    {
        var seconds = (int)Math.Ceiling(throttled.RetryAfter.TotalSeconds);
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many failed log-ins",
            detail: $"Too many failed log-ins for this user or from this address; try again in {seconds} seconds.");
    }
}

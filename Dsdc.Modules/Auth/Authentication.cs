using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Dsdc.Auth;

/// <summary>
/// Two schemes behind one default: <c>/api/*</c> (and any request with a bearer header) uses JWT bearer tokens, every
/// other path (the web UI, the Hangfire dashboard) the cookie. API calls never redirect: 401/403 ProblemDetails.
/// </summary>
public static class AuthSchemes
{
    public const string Default = "Dsdc";
    public const string Bearer = JwtBearerDefaults.AuthenticationScheme;
    public const string Cookie = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string CookieName = "dsdc.auth";

    internal static void AddDsdcAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(AuthSchemes.Default)
            .AddPolicyScheme(Default, "JWT bearer for the API, cookie for pages", o => o.ForwardDefaultSelector = SelectScheme)
            .AddJwtBearer()
            .AddCookie();
        services.AddOptions<JwtBearerOptions>(Bearer).Configure<IOptions<AuthOptions>>(ConfigureBearer);
        services.AddOptions<CookieAuthenticationOptions>(Cookie).Configure<IOptions<AuthOptions>>(ConfigureCookie);
    }

    private static string SelectScheme(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/api")
        || context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? Bearer
            : Cookie;

    private static void ConfigureBearer(JwtBearerOptions o, IOptions<AuthOptions> auth)
    {
        var settings = auth.Value;
        // Keep "sub" and "role" as they are instead of mapping them to long WS-* claim types.
        o.MapInboundClaims = false;
        o.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = AuthOptions.Issuer,
            ValidAudience = AuthOptions.Audience,
            IssuerSigningKey = TokenService.SigningKey(settings),
            // Only the algorithm we issue: no "none", no RS256/HS256 confusion.
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = TimeSpan.FromSeconds(settings.ClockSkewSeconds),
            NameClaimType = ClaimsPrincipalExtensions.NameClaim,
            RoleClaimType = ClaimsPrincipalExtensions.RoleClaim,
        };
        o.Events = new JwtBearerEvents
        {
            OnTokenValidated = async context =>
            {
                var check = context.HttpContext.RequestServices.GetRequiredService<ActiveUserCheck>();
                if (!await check.IsCurrentAsync(context.Principal, context.HttpContext.RequestAborted))
                    context.Fail("the user is disabled or no longer has this role");
            },
        };
    }

    private static void ConfigureCookie(CookieAuthenticationOptions o, IOptions<AuthOptions> auth)
    {
        o.Cookie.Name = CookieName;
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Strict;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.ExpireTimeSpan = TimeSpan.FromMinutes(auth.Value.CookieLifetimeMinutes);
        o.SlidingExpiration = true;
        o.LoginPath = "/login";
        o.LogoutPath = "/logout";
        o.AccessDeniedPath = "/denied";
        o.Events = new CookieAuthenticationEvents
        {
            OnValidatePrincipal = async context =>
            {
                var check = context.HttpContext.RequestServices.GetRequiredService<ActiveUserCheck>();
                if (await check.IsCurrentAsync(context.Principal, context.HttpContext.RequestAborted)) return;
                context.RejectPrincipal();
                await context.HttpContext.SignOutAsync(Cookie);
            },
            // Browsers navigating to a page get the log-in page; scripts and tools get a status they can act on.
            OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized),
            OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden),
        };
    }

    internal static string LocalPart(string redirectUri) =>
        Uri.TryCreate(redirectUri, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https"
            ? (absolute.PathAndQuery is var local && (local.StartsWith("//", StringComparison.Ordinal) || local.StartsWith("/\\", StringComparison.Ordinal)) ? "/" : local)
            : redirectUri;

    private static Task RedirectOrStatus(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        var request = context.Request;
        var wantsPage = !request.Path.StartsWithSegments("/api")
            && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
        // The handler builds an absolute URI from the request's Host header, which the client chose: keep the path and query
        // only, so a redirect never points at a host the client made up ("Host: evil.example").
        if (wantsPage) context.Response.Redirect(LocalPart(context.RedirectUri));
        else context.Response.StatusCode = status; // UseStatusCodePages turns the empty answer into ProblemDetails.
        return Task.CompletedTask;
    }
}

using Dsdc.Shared;
using Dsdc.Shared.Cli;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dsdc.Auth;

public static class AuthModule
{
    /// <summary>
    /// Users, log-in with throttling, JWT bearer (API) and cookie (pages) authentication, the role policies of
    /// <see cref="AuthPolicies"/>, the first admin at start and the <c>users</c> command. Needs <c>Auth:SigningKey</c>.
    /// </summary>
    public static IHostApplicationBuilder AddAuthModule(this IHostApplicationBuilder builder)
    {
        // Validated for the server and for every command alike, so a bad key is found before anything runs.
        builder.AddValidatedOptions<AuthOptions>(AuthOptions.Section);
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PasswordHashing>();
        builder.Services.AddSingleton<UserStatusCache>();
        builder.Services.AddSingleton<UserStore>();
        builder.Services.AddSingleton<IUserDirectory>(sp => sp.GetRequiredService<UserStore>());
        builder.Services.AddSingleton<LoginThrottle>();
        builder.Services.AddSingleton<ILoginService, LoginService>();
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton<ActiveUserCheck>();
        builder.Services.AddHostedService<AdminBootstrapService>();
        builder.Services.AddSingleton<ICliCommand, UsersCommand>();

        builder.Services.AddDsdcAuthentication();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.User, p => p.RequireRole(Roles.AtLeast(Roles.User)))
            .AddPolicy(AuthPolicies.ModelAdmin, p => p.RequireRole(Roles.AtLeast(Roles.ModelAdmin)))
            .AddPolicy(AuthPolicies.Admin, p => p.RequireRole(Roles.AtLeast(Roles.Admin)));

        builder.Services.Configure<OpenApiOptions>("v1", o =>
        {
            o.AddDocumentTransformer<BearerSecurityTransformer>();
            o.AddOperationTransformer<BearerSecurityTransformer>();
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Auth");
        // A token request carries no cookie, so there is nothing for a cross-site form to forge. RFC 6749 asks for a
        // urlencoded form; a multipart one (curl -F, the original service's form) is taken too.
        api.MapPost("/token", AuthEndpoints.IssueToken).DisableAntiforgery().AllowAnonymous()
            .Accepts<IFormCollection>("application/x-www-form-urlencoded", "multipart/form-data");
        api.MapPost("/session", AuthEndpoints.StartSession).AllowAnonymous();
        api.MapDelete("/session", (Delegate)AuthEndpoints.EndSession).AllowAnonymous();
        api.MapGet("/me", AuthEndpoints.Me).RequireAuthorization(AuthPolicies.User);
        api.MapGet("/users", AuthEndpoints.ListUsers).RequireAuthorization(AuthPolicies.Admin);
        return app;
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using Dsdc.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Auth;

public sealed class RoleTests(AuthApp app) : IClassFixture<AuthApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(Roles.User, HttpStatusCode.Forbidden)]
    [InlineData(Roles.ModelAdmin, HttpStatusCode.Forbidden)]
    [InlineData(Roles.Admin, HttpStatusCode.OK)]
    public async Task OnlyAdminsListUsers(string role, HttpStatusCode expected)
    {
        using var client = await app.CreateClientWithRoleAsync(role);

        var response = await client.GetAsync("/api/v1/users", Ct);

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        else
            Assert.DoesNotContain("password", await response.Content.ReadAsStringAsync(Ct), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(Roles.User, AuthPolicies.User, true)]
    [InlineData(Roles.User, AuthPolicies.ModelAdmin, false)]
    [InlineData(Roles.User, AuthPolicies.Admin, false)]
    [InlineData(Roles.ModelAdmin, AuthPolicies.User, true)]
    [InlineData(Roles.ModelAdmin, AuthPolicies.ModelAdmin, true)]
    [InlineData(Roles.ModelAdmin, AuthPolicies.Admin, false)]
    [InlineData(Roles.Admin, AuthPolicies.User, true)]
    [InlineData(Roles.Admin, AuthPolicies.ModelAdmin, true)]
    [InlineData(Roles.Admin, AuthPolicies.Admin, true)]
    public async Task EachRoleIncludesTheRightsOfTheRolesBelowIt(string role, string policy, bool allowed)
    {
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new("sub", "x"), new("role", role)], "test", "sub", "role"));

        var result = await app.Services.GetRequiredService<IAuthorizationService>().AuthorizeAsync(principal, policy);

        Assert.Equal(allowed, result.Succeeded);
        Assert.Equal(allowed, principal.HasRoleAtLeast(policy switch
        {
            AuthPolicies.User => Roles.User,
            AuthPolicies.ModelAdmin => Roles.ModelAdmin,
            _ => Roles.Admin,
        }));
    }

    [Fact]
    public async Task TheApiIgnoresTheUiCookie()
    {
        // A cookie is sent by the browser on its own, a bearer token is not: the API accepts only the latter (no CSRF).
        var password = await app.CreateUserAsync("lena", Roles.Admin);
        using var client = app.CreateClient();
        await client.LogInWithCookieAsync("lena", password);

        var response = await client.GetAsync("/api/v1/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task TheSessionEndpointSetsAStrictHttpOnlyCookie()
    {
        var password = await app.CreateUserAsync("mona", Roles.User);
        using var client = app.CreateClient(new() { HandleCookies = false });

        var response = await client.PostAsync("/api/v1/session", JsonContent.Create(new { username = "mona", password }), Ct);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(AuthSchemes.CookieName + "=", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TheSessionEndpointAcceptsOnlyJson()
    {
        // A cross-site HTML form can post urlencoded data, never JSON: refusing it is the CSRF defence of this endpoint.
        var password = await app.CreateUserAsync("nina", Roles.User);
        using var client = app.CreateClient();

        var response = await client.PostAsync("/api/v1/session",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "nina", ["password"] = password }), Ct);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }
}

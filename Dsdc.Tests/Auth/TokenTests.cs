using System.Net;
using System.Text.Json;
using Dsdc.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Dsdc.Tests.Auth;

public sealed class TokenTests(AuthApp app) : IClassFixture<AuthApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ValidCredentialsGetAnRfc6749TokenWithTheUsersClaims()
    {
        var password = await app.CreateUserAsync("Claire", Roles.ModelAdmin);
        using var client = app.CreateClient();

        var response = await client.RequestTokenAsync("claire", password, grantType: "password");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(["access_token", "token_type", "expires_in"], body.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("bearer", body.RootElement.GetProperty("token_type").GetString());
        Assert.Equal(3600, body.RootElement.GetProperty("expires_in").GetInt32());

        var jwt = new JsonWebToken(body.RootElement.GetProperty("access_token").GetString());
        Assert.Equal("HS256", jwt.Alg);
        Assert.Equal("Claire", jwt.GetClaim("sub").Value);
        Assert.Equal("model-admin", jwt.GetClaim("role").Value);
        Assert.Equal("dsdc", jwt.Issuer);
        Assert.Equal(["dsdc"], jwt.Audiences);
        Assert.False(string.IsNullOrEmpty(jwt.Id));
        Assert.Equal(TimeSpan.FromMinutes(60), jwt.ValidTo - jwt.IssuedAt);
        Assert.Equal(jwt.IssuedAt, jwt.ValidFrom);
        Assert.InRange(jwt.IssuedAt, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddSeconds(1));
    }

    /// <summary>A multipart form (curl -F, as the original service's form took it) gets a token as the urlencoded one does.</summary>
    [Fact]
    public async Task AMultipartFormGetsATokenToo()
    {
        var password = await app.CreateUserAsync("mira", Roles.User);
        using var client = app.CreateClient();
        using var form = new MultipartFormDataContent { { new StringContent("mira"), "username" }, { new StringContent(password), "password" } };

        var response = await client.PostAsync("/api/v1/token", form, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("mira", new JsonWebToken(body.RootElement.GetProperty("access_token").GetString()).GetClaim("sub").Value);
    }

    [Fact]
    public async Task TheTokenOpensEndpointsForItsUser()
    {
        var password = await app.CreateUserAsync("dora", Roles.User);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await client.GetTokenAsync("dora", password));

        var me = await client.GetAsync("/api/v1/me", Ct);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        using var body = JsonDocument.Parse(await me.Content.ReadAsStringAsync(Ct));
        Assert.Equal("dora", body.RootElement.GetProperty("username").GetString());
        Assert.Equal("user", body.RootElement.GetProperty("role").GetString());
    }

    [Fact]
    public async Task AWrongPasswordAndAnUnknownUserGetTheSame401Problem()
    {
        await app.CreateUserAsync("ellen", Roles.User);
        using var client = app.CreateClient();

        var wrong = await client.RequestTokenAsync("ellen", "not-the-password-1");
        var unknown = await client.RequestTokenAsync("nobody-here", "not-the-password-1");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await ProblemTextAsync(wrong), await ProblemTextAsync(unknown));
    }

    [Fact]
    public async Task ADisabledUserGets401EvenWithTheRightPassword()
    {
        var password = await app.CreateUserAsync("fred", Roles.User);
        await DisableAsync("fred");
        using var client = app.CreateClient();

        var response = await client.RequestTokenAsync("fred", password);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("The user name or password is wrong", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ATokenStopsWorkingOnceItsUserIsDisabled()
    {
        var password = await app.CreateUserAsync("gina", Roles.User);
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await client.GetTokenAsync("gina", password));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me", Ct)).StatusCode);

        await DisableAsync("gina");

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/me", Ct)).StatusCode);
        // Enabled again (the leak dealt with), the account works with a new log-in, but the old token stays dead.
        await app.Services.GetRequiredService<UserStore>().SetDisabledAsync("gina", false, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/me", Ct)).StatusCode);
        client.DefaultRequestHeaders.Authorization = new("Bearer", await client.GetTokenAsync("gina", password));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me", Ct)).StatusCode);
    }

    /// <summary>A log-in that rehashes the password it verified never overwrites a password changed meanwhile.</summary>
    [Fact]
    public async Task ARehashAtLogInNeverUndoesAPasswordChangedMeanwhile()
    {
        var old = await app.CreateUserAsync("hugo", Roles.User);
        var store = app.Services.GetRequiredService<UserStore>();
        var hashing = app.Services.GetRequiredService<PasswordHashing>();
        var verified = (await store.FindCredentialsAsync("hugo", Ct))!.PasswordHash;
        const string changed = "a-new-Password-42";
        await store.SetPasswordHashAsync("hugo", hashing.Hash(changed), Ct);

        // The log-in that verified the old hash arrives with its rehash after the change.
        Assert.False(await store.RehashPasswordAsync("hugo", verified, hashing.Hash(old), Ct));

        using var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.RequestTokenAsync("hugo", changed)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.RequestTokenAsync("hugo", old)).StatusCode);
    }

    [Fact]
    public async Task MissingFieldsGetAValidationProblem()
    {
        using var client = app.CreateClient();

        var response = await client.PostAsync("/api/v1/token",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "x" }), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.True(body.RootElement.GetProperty("errors").TryGetProperty("password", out _));
    }

    [Fact]
    public async Task AnotherGrantTypeIsRefused()
    {
        using var client = app.CreateClient();

        var response = await client.RequestTokenAsync(AuthApp.AdminName, app.AdminPassword, grantType: "client_credentials");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("unsupported_grant_type", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task TheOpenApiDocumentDeclaresTheBearerScheme()
    {
        using var client = app.CreateClient();

        using var doc = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json", Ct));

        var scheme = doc.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        var me = doc.RootElement.GetProperty("paths").GetProperty("/api/v1/me").GetProperty("get");
        Assert.True(me.GetProperty("security")[0].TryGetProperty("Bearer", out _));
        Assert.False(doc.RootElement.GetProperty("paths").GetProperty("/api/v1/token").GetProperty("post").TryGetProperty("security", out _));
    }

    // Everything but the trace id, which differs per request.
    private static async Task<string> ProblemTextAsync(HttpResponseMessage response)
    {
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return string.Join("|", problem.RootElement.EnumerateObject().Where(p => p.Name != "traceId").Select(p => $"{p.Name}={p.Value}"));
    }

    private Task DisableAsync(string name) =>
        app.Services.GetRequiredService<UserStore>().SetDisabledAsync(name, true, Ct);
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dsdc.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Dsdc.Tests.Auth;

/// <summary>Tokens that were forged, altered or are out of date get 401 ProblemDetails with a Bearer challenge.</summary>
public sealed class TamperingTests(AuthApp app) : IClassFixture<AuthApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ATokenMadeWithTheRightKeyIsAccepted()
    {
        // The control for the cases below: the same hand-made token, untouched, works.
        await EnsureUserAsync();

        Assert.Equal(HttpStatusCode.OK, (await CallMeAsync(Sign(Claims()))).StatusCode);
    }

    [Fact]
    public async Task NoTokenGets401WithABearerChallenge()
    {
        using var client = app.CreateClient();

        var response = await client.GetAsync("/api/v1/me", Ct);

        await AssertUnauthorizedAsync(response);
    }

    [Fact]
    public async Task AnUnsignedAlgNoneTokenIsRefused()
    {
        await EnsureUserAsync();
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode(Claims().ToJsonString());

        await AssertUnauthorizedAsync(await CallMeAsync($"{header}.{payload}."));
    }

    [Fact]
    public async Task ATokenSignedWithAnotherKeyIsRefused()
    {
        await EnsureUserAsync();

        await AssertUnauthorizedAsync(await CallMeAsync(Sign(Claims(), key: "another-key-of-enough-length-0123456789")));
    }

    [Fact]
    public async Task ATokenSignedWithAnotherAlgorithmIsRefused()
    {
        await EnsureUserAsync();

        await AssertUnauthorizedAsync(await CallMeAsync(Sign(Claims(), algorithm: SecurityAlgorithms.HmacSha512)));
    }

    [Fact]
    public async Task AnExpiredTokenIsRefused()
    {
        await EnsureUserAsync();
        var now = DateTimeOffset.UtcNow;

        var token = Sign(Claims(issued: now.AddHours(-2), expires: now.AddMinutes(-5)));

        await AssertUnauthorizedAsync(await CallMeAsync(token));
    }

    [Fact]
    public async Task ATokenNotValidBeforeAFutureTimeIsRefused()
    {
        await EnsureUserAsync();
        var now = DateTimeOffset.UtcNow;

        var token = Sign(Claims(issued: now, notBefore: now.AddMinutes(10), expires: now.AddHours(1)));

        await AssertUnauthorizedAsync(await CallMeAsync(token));
    }

    [Theory]
    [InlineData("iss")]
    [InlineData("aud")]
    public async Task ATokenForAnotherIssuerOrAudienceIsRefused(string claim)
    {
        await EnsureUserAsync();
        var claims = Claims();
        claims[claim] = "someone-else";

        await AssertUnauthorizedAsync(await CallMeAsync(Sign(claims)));
    }

    [Fact]
    public async Task ARoleEditedInTheSignedPayloadIsRefused()
    {
        var password = await EnsureUserAsync();
        using var client = app.CreateClient();
        var parts = (await client.GetTokenAsync(UserName, password)).Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!;
        payload["role"] = "admin";

        var forged = $"{parts[0]}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{parts[2]}";

        await AssertUnauthorizedAsync(await CallMeAsync(forged));
        await AssertUnauthorizedAsync(await CallAsync("/api/v1/users", forged));
    }

    [Fact]
    public async Task AValidTokenClaimingARoleTheUserDoesNotHaveIsRefused()
    {
        // Signed correctly (a leaked key aside, only the app can do this), but the database says otherwise: the role
        // in a token must still be the user's role, so a demotion takes effect before the token expires.
        await EnsureUserAsync();
        var claims = Claims();
        claims["role"] = Roles.Admin;

        await AssertUnauthorizedAsync(await CallMeAsync(Sign(claims)));
    }

    private const string UserName = "tess";
    private static readonly SemaphoreSlim Once = new(1, 1);
    private static string? _password;

    private async Task<string> EnsureUserAsync()
    {
        await Once.WaitAsync(Ct);
        try
        {
            return _password ??= await app.CreateUserAsync(UserName, Roles.User);
        }
        finally
        {
            Once.Release();
        }
    }

    private static JsonObject Claims(DateTimeOffset? issued = null, DateTimeOffset? notBefore = null, DateTimeOffset? expires = null)
    {
        var now = issued ?? DateTimeOffset.UtcNow;
        return new JsonObject
        {
            ["sub"] = UserName,
            ["role"] = Roles.User,
            ["iss"] = "dsdc",
            ["aud"] = "dsdc",
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = (notBefore ?? now).ToUnixTimeSeconds(),
            ["exp"] = (expires ?? now.AddMinutes(30)).ToUnixTimeSeconds(),
        };
    }

    private string Sign(JsonObject claims, string? key = null, string algorithm = SecurityAlgorithms.HmacSha256)
    {
        var credentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key ?? app.SigningKey)), algorithm);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(claims.ToJsonString(), credentials);
    }

    private Task<HttpResponseMessage> CallMeAsync(string token) => CallAsync("/api/v1/me", token);

    private async Task<HttpResponseMessage> CallAsync(string path, string token)
    {
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return await client.GetAsync(path, Ct);
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"status\":401", await response.Content.ReadAsStringAsync(Ct));
    }
}

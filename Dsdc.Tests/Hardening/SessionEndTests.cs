using System.Net;
using System.Net.Http.Headers;
using Dsdc.Auth;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Hardening;

/// <summary>
/// Sessions end: a log-out or a password change revokes every cookie and token of that user (the session version checked
/// with the user status cache), the way disabling a user already did. Issue 14, defect 5.
/// </summary>
public sealed class SessionEndTests(AuthApp app) : IClassFixture<AuthApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Dictionary<string, string?> CliEnvironment() => new()
    {
        ["ConnectionStrings__Dsdc"] = app.Database.ConnectionString,
        ["Dsdc__DataDir"] = app.DataDir,
        ["Dsdc__ModelsDir"] = app.ModelsDir,
        ["Auth__SigningKey"] = DsdcAppFactory.NewSigningKey(),
    };

    /// <summary>The cookie header a browser would have saved after logging in.</summary>
    private async Task<string> CookieOfALogInAsync(HttpClient client, string user, string password)
    {
        var response = await client.PostAsync("/api/v1/session",
            new StringContent($$"""{"username":"{{user}}","password":"{{password}}"}""", System.Text.Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(AuthSchemes.CookieName + "="));
        return setCookie.Split(';')[0];
    }

    private async Task<HttpStatusCode> DocumentsWithCookieAsync(string cookie)
    {
        using var client = app.CreateClient(new() { HandleCookies = false, AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/documents");
        request.Headers.Add("Cookie", cookie);
        return (await client.SendAsync(request, Ct)).StatusCode;
    }

    private async Task<HttpStatusCode> MeWithTokenAsync(string token)
    {
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await client.GetAsync("/api/v1/me", Ct)).StatusCode;
    }

    [Fact]
    public async Task ACookieSavedBeforeLogOutNoLongerOpensPagesAndTheUsersTokensEndToo()
    {
        var password = await app.CreateUserAsync("lena", Roles.User);
        using var browser = app.CreateClient(new() { HandleCookies = false, AllowAutoRedirect = false });
        var cookie = await CookieOfALogInAsync(browser, "lena", password);
        var token = await browser.GetTokenAsync("lena", password);
        Assert.Equal(HttpStatusCode.OK, await DocumentsWithCookieAsync(cookie));
        Assert.Equal(HttpStatusCode.OK, await MeWithTokenAsync(token));

        using var logOut = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/session");
        logOut.Headers.Add("Cookie", cookie);
        Assert.Equal(HttpStatusCode.NoContent, (await browser.SendAsync(logOut, Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await DocumentsWithCookieAsync(cookie));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeWithTokenAsync(token));
        // A new log-in works as before.
        Assert.Equal(HttpStatusCode.OK, await DocumentsWithCookieAsync(await CookieOfALogInAsync(browser, "lena", password)));
    }

    [Fact]
    public async Task APasswordChangedByTheCliRevokesOldTokensAndCookies()
    {
        var password = await app.CreateUserAsync("milo", Roles.User);
        using var client = app.CreateClient(new() { HandleCookies = false, AllowAutoRedirect = false });
        var token = await client.GetTokenAsync("milo", password);
        var cookie = await CookieOfALogInAsync(client, "milo", password);
        Assert.Equal(HttpStatusCode.OK, await MeWithTokenAsync(token));

        var set = await AppProcess.RunAsync(["users", "set-password", "milo"], CliEnvironment(), "another long passphrase\n");
        Assert.True(set.ExitCode == 0, set.StdErr);

        // Another process changed it: this app sees it once its user cache expires (0 s here, Auth:UserCacheSeconds).
        Assert.Equal(HttpStatusCode.Unauthorized, await MeWithTokenAsync(token));
        Assert.Equal(HttpStatusCode.Unauthorized, await DocumentsWithCookieAsync(cookie));
        Assert.Equal(HttpStatusCode.OK, await MeWithTokenAsync(await client.GetTokenAsync("milo", "another long passphrase")));
    }

    [Fact]
    public async Task AnotherUsersLogOutLeavesThisUsersSessionsAlone()
    {
        var pw1 = await app.CreateUserAsync("nora", Roles.User);
        var pw2 = await app.CreateUserAsync("otto", Roles.User);
        using var client = app.CreateClient(new() { HandleCookies = false, AllowAutoRedirect = false });
        var noraToken = await client.GetTokenAsync("nora", pw1);
        var ottoCookie = await CookieOfALogInAsync(client, "otto", pw2);

        using var logOut = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/session");
        logOut.Headers.Add("Cookie", ottoCookie);
        await client.SendAsync(logOut, Ct);

        Assert.Equal(HttpStatusCode.OK, await MeWithTokenAsync(noraToken));
    }
}

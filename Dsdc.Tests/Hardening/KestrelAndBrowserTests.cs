using System.Net;
using System.Text.Json;
using Dapper;
using Dsdc.Auth;
using Dsdc.Inference.Api;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Ui;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static Dsdc.Tests.Hardening.HardeningRequests;

namespace Dsdc.Tests.Hardening;

/// <summary>
/// Issue 14 on the real server (Kestrel on loopback, as an outside tester reaches it) and in Debian's Chromium: one
/// upload limit everywhere (defect 4), no redirect built from the Host header (defect 6), a correction form posted
/// without its label (defect 1) and a cookie replayed after log-out (defect 5).
/// </summary>
[Collection(UiCollection.Name)]
public sealed class KestrelAndBrowserTests(UiApp app)
{
    private const long DefaultLimit = 50L * 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private HttpClient Client(bool redirects = false) =>
        new(new HttpClientHandler { AllowAutoRedirect = redirects, UseCookies = true, CookieContainer = new() })
        { BaseAddress = new Uri(app.BaseUrl), Timeout = TimeSpan.FromMinutes(3) };

    /// <summary>A client logged in with the cookie as a new user of role user.</summary>
    private async Task<(HttpClient Client, string Name, string Password)> LoggedInAsync(bool redirects = false)
    {
        var name = $"c-{Guid.NewGuid():N}"[..20];
        var password = await app.CreateUserAsync(name, Roles.User);
        var client = Client(redirects);
        await client.LogInWithCookieAsync(name, password);
        return (client, name, password);
    }

    /// <summary>A file part of zeros.</summary>
    private static ByteArrayContent Bytes(long length)
    {
        var part = new ByteArrayContent(new byte[length]);
        part.Headers.ContentType = OctetStream;
        return part;
    }

    private async Task<HttpClient> BearerClientAsync()
    {
        var name = $"k-{Guid.NewGuid():N}"[..20];
        var password = await app.CreateUserAsync(name, Roles.User);
        var client = Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await client.GetTokenAsync(name, password));
        return client;
    }

    [Fact]
    public async Task TheConfiguredLimitIsTheOneKestrelEnforces()
    {
        Assert.Equal(DefaultLimit, app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PredictionApiOptions>>().Value.MaxUploadBytes);
        using var client = await BearerClientAsync();

        // 30.1 MB: above Kestrel's own default (30,000,000 bytes), well under the configured 50 MiB: read, then refused for its content.
        var under = await client.PostAsync("/api/v1/predict", FilePart(new byte[30_100_000], "filename=\"zeros.tif\""), Ct);
        await AssertProblemAsync(under, HttpStatusCode.UnsupportedMediaType);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/predict") { Content = FilePart(new byte[DefaultLimit + 1024 * 1024], "filename=\"big.tif\"") };
        request.Headers.ExpectContinue = true;
        var over = await client.SendAsync(request, Ct);
        await AssertProblemAsync(over, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("50 MiB", await over.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task TheClassifyPageRefusesAnOversizedUploadWithTheLimitInItsMessage()
    {
        var (client, _, _) = await LoggedInAsync(redirects: true);
        using var _ = client;
        var token = await FormTokenAsync(client, "/classify");
        var form = new MultipartFormDataContent { { new StringContent(token), "__RequestVerificationToken" } };
        form.Add(Bytes(DefaultLimit + 512 * 1024), "Upload", "big.tif");

        var response = await client.PostAsync("/classify", form, Ct);

        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {html[..Math.Min(300, html.Length)]}");
        Assert.Contains("larger than 50 MiB", html);
    }

    /// <summary>The same on the upload page, also at its address with a trailing slash (which routing takes too): a file
    /// over the limit among others gets the page's own message, not a bare 400 from the form reader.</summary>
    [Fact]
    public async Task TheUploadPageRefusesAFileOverTheLimitWithTheLimitInItsMessage()
    {
        var (client, _, _) = await LoggedInAsync(redirects: true);
        using var _ = client;
        foreach (var path in new[] { "/upload", "/upload/" })
        {
            var token = await FormTokenAsync(client, "/upload");
            var form = new MultipartFormDataContent { { new StringContent(token), "__RequestVerificationToken" }, { new StringContent("11"), "Label" } };
            form.Add(Bytes(1024), "Files", "small.tif");
            form.Add(Bytes(DefaultLimit + 512 * 1024), "Files", "big.tif");

            var response = await client.PostAsync(path, form, Ct);

            var html = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}: {html[..Math.Min(300, html.Length)]}");
            Assert.Contains("&#x27;big.tif&#x27;: The upload is larger than 50 MiB", html);
            // The class chosen stays chosen for the next try.
            Assert.Matches("<option value=\"11\" selected=\"selected\"", html);
        }
        // The classify page at its address with a trailing slash gets the same message as without.
        var classifyToken = await FormTokenAsync(client, "/classify");
        var classify = new MultipartFormDataContent { { new StringContent(classifyToken), "__RequestVerificationToken" } };
        classify.Add(Bytes(DefaultLimit + 512 * 1024), "Upload", "big.tif");
        var refused = await client.PostAsync("/classify/", classify, Ct);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("larger than 50 MiB", await refused.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task ARedirectNeverNamesTheHostTheClientSent()
    {
        using var client = Client();
        foreach (var path in new[] { "/documents", "/classify?x=1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Host = "evil.example";
            request.Headers.Accept.ParseAdd("text/html");
            var response = await client.SendAsync(request, Ct);

            Assert.True((int)response.StatusCode is 302 or 400, $"{path}: {(int)response.StatusCode}");
            if (response.Headers.Location is { } location)
            {
                Assert.DoesNotContain("evil.example", location.OriginalString);
                Assert.StartsWith("/login", location.OriginalString);
            }
        }
    }

    [Fact]
    public async Task ACorrectionPostedWithoutItsLabelFieldIsRefusedAndStoresNothing()
    {
        var (context, page, user) = await app.LogInAsync(Roles.User);
        await using var _ = context;
        await page.GetByLabel("Document").SetInputFilesAsync(app.Known[1].Path);
        await page.GetByRole(AriaRole.Button, new() { Name = "Classify" }).ClickAsync();
        await UiApp.WaitForAddressAsync(page, new System.Text.RegularExpressions.Regex(@"/predictions/\d+$"), "classifying");
        var predictionId = long.Parse(page.Url[(page.Url.LastIndexOf('/') + 1)..]);
        var documentId = await ScalarAsync<string>("SELECT document_id FROM inference.predictions WHERE id = @predictionId", new { predictionId });
        var before = await ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @documentId AND source = 'human'", new { documentId });

        // What a hand-made post does: the form without its select.
        await page.EvaluateAsync("() => document.getElementById('label').remove()");
        await page.GetByTestId("save-label").ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("label");
        Assert.Equal(before, await ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @documentId AND source = 'human'", new { documentId }));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE source = 'human' AND created_by = @user", new { user }));
    }

    [Fact]
    public async Task ACookieSavedBeforeLogOutNoLongerOpensDocuments()
    {
        var (context, page, _) = await app.LogInAsync(Roles.User);
        var saved = await context.StorageStateAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await UiApp.WaitForAddressAsync(page, new System.Text.RegularExpressions.Regex("/login"), "logging out");
        await context.DisposeAsync();

        var replay = await app.Browser.NewContextAsync(new() { BaseURL = app.BaseUrl, StorageState = saved });
        await using var __ = replay;
        replay.SetDefaultNavigationTimeout(90_000);
        var again = await replay.NewPageAsync();
        await again.GotoAsync("/documents");

        Assert.Contains("/login", again.Url);
    }

    /// <summary>"Log out" in a tab loaded before the session ended (logged out in another tab, or timed out) lands on the
    /// log-in page, not on a bare 400 from the antiforgery check of a token that belonged to the ended session.</summary>
    [Fact]
    public async Task LoggingOutOfASessionThatHasAlreadyEndedLandsOnTheLogInPage()
    {
        var (client, name, password) = await LoggedInAsync();
        using var _ = client;
        var token = await FormTokenAsync(client, "/documents");
        FormUrlEncodedContent LogOutForm() => new([new("__RequestVerificationToken", token)]);

        var first = await client.PostAsync("/logout", LogOutForm(), Ct);
        var second = await client.PostAsync("/logout", LogOutForm(), Ct);

        foreach (var response in new[] { first, second })
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/login", response.Headers.Location?.OriginalString.ToLowerInvariant());
        }
        // The browser drops the page images it kept for the session.
        Assert.Equal("\"cache\"", Assert.Single(first.Headers.GetValues("Clear-Site-Data")));

        // While the session is alive, a log-out without the form's token (a page of another site) is refused.
        await client.LogInWithCookieAsync(name, password);
        var forged = await client.PostAsync("/logout", new FormUrlEncodedContent([]), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/documents", Ct)).StatusCode);
    }

    private async Task<T> ScalarAsync<T>(string sql, object args)
    {
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }
}

using System.Net;
using System.Net.Http.Json;
using Dsdc.Auth;

namespace Dsdc.Tests.Auth;

public sealed class ThrottleTests(ThrottleTests.App app) : IClassFixture<ThrottleTests.App>
{
    public sealed class App : AuthApp
    {
        protected override IDictionary<string, string?> Settings
        {
            get
            {
                var settings = base.Settings;
                settings["Auth:Throttle:MaxFailuresPerAddress"] = "8";
                return settings;
            }
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FiveWrongPasswordsLockThatNameFromThatAddressWith429RetryAfterAndAProblemType()
    {
        app.RemoteAddress = IPAddress.Parse("198.51.100.1");
        var password = await app.CreateUserAsync("hank", Roles.User);
        using var client = app.CreateClient();
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.RequestTokenAsync("hank", $"wrong-password-{i}")).StatusCode);

        // Even the right password is refused from the address that made the failures.
        var locked = await client.RequestTokenAsync("HANK", password);

        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Equal("application/problem+json", locked.Content.Headers.ContentType?.MediaType);
        var retryAfter = int.Parse(Assert.Single(locked.Headers.GetValues("Retry-After")));
        Assert.InRange(retryAfter, 1, 30);
        using var problem = System.Text.Json.JsonDocument.Parse(await locked.Content.ReadAsStringAsync(Ct));
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("type").GetString()), "the 429 ProblemDetails has no type");
    }

    /// <summary>Issue 14 defect 7: anyone could lock an account out by failing its log-in on purpose.</summary>
    /// <summary>Wrong passwords sent all at once get no more guesses than sent one by one: the check and the count of the
    /// throttle do not let a burst through before the failures are counted.</summary>
    [Fact]
    public async Task WrongPasswordsSentAllAtOnceGetNoMoreGuessesThanOneByOne()
    {
        app.RemoteAddress = IPAddress.Parse("198.51.100.77");
        await app.CreateUserAsync("ivy", Roles.User);
        using var client = app.CreateClient();

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => client.RequestTokenAsync("ivy", $"wrong-password-{i}")));

        Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Equal(7, answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task AnAttackerCannotLockTheOwnerOutFromAnotherAddress()
    {
        var password = await app.CreateUserAsync("lily", Roles.User);
        using var client = app.CreateClient();
        app.RemoteAddress = IPAddress.Parse("203.0.113.66");
        for (var i = 0; i < 7; i++)
            await client.RequestTokenAsync("lily", $"attacker-guess-{i}");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.RequestTokenAsync("lily", password)).StatusCode);

        app.RemoteAddress = IPAddress.Parse("198.51.100.99");
        Assert.Equal(HttpStatusCode.OK, (await client.RequestTokenAsync("lily", password)).StatusCode);
    }

    [Fact]
    public async Task FailuresFromManyAddressesLockTheNameForEveryAddressThatFailedButNotForACleanOne()
    {
        var password = await app.CreateUserAsync("mona", Roles.User);
        using var client = app.CreateClient();
        // A guesser spreading its tries over many addresses (a botnet): each address stays under its own limits.
        for (var i = 0; i < 24; i++)
        {
            app.RemoteAddress = IPAddress.Parse($"192.0.2.{10 + i}");
            await client.RequestTokenAsync("mona", $"spread-guess-{i}");
        }

        app.RemoteAddress = IPAddress.Parse("192.0.2.10");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.RequestTokenAsync("mona", password)).StatusCode);
        app.RemoteAddress = IPAddress.Parse("192.0.2.200");
        Assert.Equal(HttpStatusCode.OK, (await client.RequestTokenAsync("mona", password)).StatusCode);
    }

    [Fact]
    public async Task ManyFailuresFromOneAddressLockThatAddressOnly()
    {
        var password = await app.CreateUserAsync("iris", Roles.User);
        using var client = app.CreateClient();
        app.RemoteAddress = IPAddress.Parse("198.51.100.7");
        for (var i = 0; i < 8; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.RequestTokenAsync($"guess{i}", "some-password-123")).StatusCode);

        var fromThere = await client.RequestTokenAsync("iris", password);
        app.RemoteAddress = IPAddress.Parse("198.51.100.8");
        var fromElsewhere = await client.RequestTokenAsync("iris", password);

        Assert.Equal(HttpStatusCode.TooManyRequests, fromThere.StatusCode);
        Assert.True(fromThere.Headers.Contains("Retry-After"));
        Assert.Equal(HttpStatusCode.OK, fromElsewhere.StatusCode);
    }

    /// <summary>
    /// A guesser who has reached the longest lockout stays at it: the window of forgotten failures runs from the end of
    /// the lockout, not from the failure that started it (with the defaults both last 900 s, and the count used to start
    /// again at 1 as each longest lockout ended, giving 4 free guesses every time).
    /// </summary>
    [Fact]
    public async Task AGuesserAtTheLongestLockoutStaysThereWhenItEnds()
    {
        app.RemoteAddress = IPAddress.Parse("198.51.100.40");
        var password = await app.CreateUserAsync("lena", Roles.User);
        using var client = app.CreateClient();
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.RequestTokenAsync("lena", $"guess-password-{i}")).StatusCode);

        // Fifteen minutes on: the guesser has gone on to the longest lockout (900 s from its last failure), which has just ended.
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
        {
            await conn.OpenAsync(Ct);
            await using var age = new Npgsql.NpgsqlCommand("""
                UPDATE auth.login_throttle SET failures = 20, last_failure_at = now() - interval '901 seconds',
                                                  locked_until = now() - interval '1 second'
                WHERE locked_until > now()
                """, conn);
            Assert.True(await age.ExecuteNonQueryAsync(Ct) >= 1);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.RequestTokenAsync("lena", "guess-password-5")).StatusCode);

        var next = await client.RequestTokenAsync("lena", password);

        Assert.Equal(HttpStatusCode.TooManyRequests, next.StatusCode);
        Assert.InRange(int.Parse(Assert.Single(next.Headers.GetValues("Retry-After"))), 800, 900);
    }

    [Fact]
    public async Task ASuccessfulLogInClearsTheUsersFailures()
    {
        app.RemoteAddress = IPAddress.Parse("198.51.100.20");
        var password = await app.CreateUserAsync("jack", Roles.User);
        using var client = app.CreateClient();

        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 4; i++)
                Assert.Equal(HttpStatusCode.Unauthorized, (await client.RequestTokenAsync("jack", $"typo-password-{i}")).StatusCode);
            app.RemoteAddress = IPAddress.Parse($"198.51.100.{21 + round}");
            Assert.Equal(HttpStatusCode.OK, (await client.RequestTokenAsync("jack", password)).StatusCode);
        }
    }

    [Fact]
    public async Task TheCookieLogInIsThrottledToo()
    {
        app.RemoteAddress = IPAddress.Parse("198.51.100.30");
        await app.CreateUserAsync("kate", Roles.User);
        using var client = app.CreateClient();
        for (var i = 0; i < 5; i++)
            await client.PostAsync("/api/v1/session", JsonContent.Create(new { username = "kate", password = $"bad-password-{i}" }), Ct);

        var response = await client.PostAsync("/api/v1/session", JsonContent.Create(new { username = "kate", password = "bad-password-x" }), Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.Contains("Retry-After"));
    }
}

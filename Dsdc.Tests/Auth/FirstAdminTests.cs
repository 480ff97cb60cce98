using System.Net;
using Dapper;
using Dsdc.Auth;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Dsdc.Tests.Auth;

[Collection(LogCollection.Name)]
public sealed class FirstAdminTests(AuthApp app) : IClassFixture<AuthApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheConfiguredAdminIsCreatedAtStartAndCanLogIn()
    {
        using var client = app.CreateClient();

        var token = await client.GetTokenAsync(AuthApp.AdminName, app.AdminPassword);

        Assert.False(string.IsNullOrEmpty(token));
        var admin = await app.Services.GetRequiredService<IUserDirectory>().FindAsync(AuthApp.AdminName, Ct);
        Assert.Equal(Roles.Admin, admin?.Role);
        Assert.Contains(app.Log.Lines, l => l.Contains("Created the first admin \"root\""));
    }

    [Fact]
    public async Task ARestartNeitherDuplicatesNorResetsTheAdmin()
    {
        using var client = app.CreateClient();
        var before = await HashOfAsync(AuthApp.AdminName);

        // What the next start does: the same hosted service, run again.
        var bootstrap = app.Services.GetServices<IHostedService>().Single(s => s.GetType().Name == "AdminBootstrapService");
        await bootstrap.StartAsync(Ct);

        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM auth.users WHERE role = 'admin'"));
        Assert.Equal(before, await HashOfAsync(AuthApp.AdminName));
        Assert.Single(app.Log.Lines, l => l.Contains("Created the first admin"));
    }

    [Fact]
    public async Task PasswordsAndTokensNeverReachTheLog()
    {
        using var client = app.CreateClient();
        var password = await app.CreateUserAsync("olga", Roles.User);
        var token = await client.GetTokenAsync("olga", password);
        await client.RequestTokenAsync("olga", password + "-wrong");
        await client.RequestTokenAsync(password, password); // a password typed into the name field
        await client.LogInWithCookieAsync("olga", password);
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        await client.GetAsync("/api/v1/me", Ct);

        Assert.Contains(app.Log.Lines, l => l.Contains("Failed log-in for user \"olga\""));
        Assert.DoesNotContain(app.Log.Lines, l => l.Contains(password) || l.Contains(app.AdminPassword) || l.Contains(token));
        Assert.DoesNotContain(app.Log.Lines, l => l.Contains(app.SigningKey));
    }

    private async Task<string> HashOfAsync(string username)
    {
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        return await conn.ExecuteScalarAsync<string>("SELECT password_hash FROM auth.users WHERE username = @username", new { username }) ?? "";
    }
}

[Collection(LogCollection.Name)]
public sealed class NoAdminTests(NoAdminTests.App app) : IClassFixture<NoAdminTests.App>
{
    public sealed class App : DsdcAppFactory
    {
        public LogCapture Log { get; } = new();

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(s => s.AddSingleton<Serilog.Core.ILogEventSink>(Log));
        }
    }

    [Fact]
    public async Task StartingWithNoAdminAndNoneConfiguredWarnsWithTheSettingsToUse()
    {
        using var client = app.CreateClient();

        var users = await app.Services.GetRequiredService<IUserDirectory>().ListAsync(TestContext.Current.CancellationToken);

        Assert.Empty(users);
        Assert.Contains(app.Log.Lines, l => l.StartsWith("Warning No enabled admin exists") && l.Contains("Auth__Admin__Password"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", TestContext.Current.CancellationToken)).StatusCode);
    }
}

/// <summary>The app and its workers start together, each with the same Auth:Admin settings and no admin yet.</summary>
public sealed class FirstAdminRaceTests(NoAdminTests.App app) : IClassFixture<NoAdminTests.App>
{
    [Fact]
    public async Task ProcessesStartingTogetherCreateTheFirstAdminOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        _ = app.Services; // started: no admin configured, none created
        var store = app.Services.GetRequiredService<UserStore>();

        using var start = new ManualResetEventSlim();
        var attempts = Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            start.Wait(ct);
            return await store.CreateFirstAdminAsync(i % 2 == 0 ? "root" : "Root", $"hash-{i}", ct);
        }, ct)).ToList();
        start.Set();
        var created = await Task.WhenAll(attempts);

        var winner = Assert.Single(Enumerable.Range(0, 6), i => created[i]);
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        var row = await conn.QuerySingleAsync<(string Hash, int SessionVersion)>(
            "SELECT password_hash, session_version FROM auth.users WHERE role = 'admin'");
        Assert.Equal($"hash-{winner}", row.Hash);
        Assert.Equal(0, row.SessionVersion);
        Assert.False(await store.CreateFirstAdminAsync("someone-else", "hash-x", ct));
    }
}

using System.Net;
using Dsdc.Auth;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Monitoring;

/// <summary>The Hangfire dashboard belongs to admins, signed in with the UI's cookie, wherever they connect from.</summary>
public sealed class DashboardAccessTests(DashboardAccessTests.Factory factory) : IClassFixture<DashboardAccessTests.Factory>
{
    public sealed class Factory : DsdcAppFactory
    {
        public Factory() => RemoteAddress = IPAddress.Parse("203.0.113.9");
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheHangfireDashboardRefusesAnonymousRequests()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/hangfire", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData(Roles.User)]
    [InlineData(Roles.ModelAdmin)]
    public async Task TheHangfireDashboardRefusesUsersWhoAreNotAdmins(string role)
    {
        var name = $"dash-{role}";
        var password = await factory.CreateUserAsync(name, role);
        using var client = factory.CreateClient();
        await client.LogInWithCookieAsync(name, password);

        var response = await client.GetAsync("/hangfire", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task TheHangfireDashboardServesAdmins()
    {
        var password = await factory.CreateUserAsync("dash-admin", Roles.Admin);
        using var client = factory.CreateClient();
        await client.LogInWithCookieAsync("dash-admin", password);

        var response = await client.GetAsync("/hangfire", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("DSDC jobs", await response.Content.ReadAsStringAsync(Ct));
    }
}

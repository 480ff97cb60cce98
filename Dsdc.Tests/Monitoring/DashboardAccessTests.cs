using System.Net;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Monitoring;

public sealed class DashboardAccessTests(DashboardAccessTests.Factory factory) : IClassFixture<DashboardAccessTests.Factory>
{
    public sealed class Factory : DsdcAppFactory
    {
        public Factory() => RemoteAddress = IPAddress.Parse("203.0.113.9");
    }

    [Fact]
    public async Task TheHangfireDashboardRefusesRemoteRequests()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/hangfire", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

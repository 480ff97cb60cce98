using System.Net;
using System.Text.Json;
using Dsdc.Tests.Infrastructure;
using Npgsql;

namespace Dsdc.Tests.Monitoring;

public sealed class HostTests(HostTests.Factory factory) : IClassFixture<HostTests.Factory>
{
    public sealed class Factory : DsdcAppFactory;

    [Fact]
    public async Task LivenessAndReadinessAnswer200WithTheDatabaseUp()
    {
        using var client = factory.CreateClient();
        var ct = TestContext.Current.CancellationToken;

        var live = await client.GetAsync("/health/live", ct);
        var ready = await client.GetAsync("/health/ready", ct);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync(ct));
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
    }

    [Fact]
    public async Task ReadinessReportsUnreadyWhileTheDatabaseRefusesConnections()
    {
        using var client = factory.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready", ct)).StatusCode);

        await SetAllowConnectionsAsync(factory.Database.Name, false);
        try
        {
            var ready = await client.GetAsync("/health/ready", ct);
            var live = await client.GetAsync("/health/live", ct);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("database unreachable", await ready.Content.ReadAsStringAsync(ct));
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            await SetAllowConnectionsAsync(factory.Database.Name, true);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready", ct)).StatusCode);
    }

    [Fact]
    public async Task MetricsExposeRequestCountersInPrometheusFormat()
    {
        using var client = factory.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        await client.GetAsync("/health/live", ct);

        var metrics = await client.GetAsync("/metrics", ct);
        var text = await metrics.Content.ReadAsStringAsync(ct);

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE http_requests_received_total counter", text);
        Assert.Contains("process_cpu_seconds_total", text);
    }

    [Fact]
    public async Task TheOpenApiDocumentIsServed()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.StartsWith("3.", doc.RootElement.GetProperty("openapi").GetString());
    }

    [Fact]
    public async Task TheHangfireDashboardSendsAnonymousBrowsersToTheLogInPage()
    {
        // Even local requests need an admin now (DashboardAccessTests checks the roles).
        using var client = factory.CreateClient(new() { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
        request.Headers.Accept.ParseAdd("text/html");

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        // A path only: a redirect never names a host (the client chose the Host header).
        Assert.StartsWith("/login?ReturnUrl=%2Fhangfire", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task AnUnknownRouteAnswersProblemDetails()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/api/v1/nothing-here", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task SetAllowConnectionsAsync(string database, bool allow)
    {
        await using var admin = new NpgsqlConnection(TestDatabase.ServerConnectionString);
        await admin.OpenAsync();
        await using var alter = new NpgsqlCommand($"ALTER DATABASE {database} WITH ALLOW_CONNECTIONS {allow}", admin);
        await alter.ExecuteNonQueryAsync();
        if (!allow)
        {
            await using var kill = new NpgsqlCommand(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @db AND pid <> pg_backend_pid()", admin);
            kill.Parameters.AddWithValue("db", database);
            await kill.ExecuteNonQueryAsync();
        }
        NpgsqlConnection.ClearAllPools();
    }
}

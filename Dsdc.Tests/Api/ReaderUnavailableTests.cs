using System.Net;
using System.Text.Json;
using Dsdc.Auth;
using Dsdc.Tests.Auth;
using Dsdc.Tests.ImageProcessing;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Api;

/// <summary>A machine that cannot read PDFs now (mutool missing) answers a PDF with 503, not 500: the request is
/// right, and succeeds once the setup is fixed; other documents are still classified.</summary>
public sealed class ReaderUnavailableTests : IAsyncLifetime
{
    private readonly App _app = new();

    public sealed class App : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Pipeline:Enabled"] = "false", ["Jobs:Server"] = "false", ["Training:Enabled"] = "false",
            ["Inference:ReloadIntervalSeconds"] = "0", ["Imaging:MutoolPath"] = "/nonexistent/mutool",
        };
    }

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task APdfWhileMutoolIsMissingIsAnswered503NamingTheSetting()
    {
        using var client = await _app.CreateClientWithRoleAsync(Roles.User);

        var response = await client.PredictAsync(ApiRequests.File(TestDocuments.TextPdf));

        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("reader-unavailable", json.RootElement.GetProperty("reason").GetString());
        Assert.Contains("Imaging:MutoolPath", json.RootElement.GetProperty("detail").GetString());
        var png = await client.PredictAsync(ApiRequests.File(Fixtures.First(".png").Path));
        Assert.Equal(HttpStatusCode.OK, png.StatusCode);
    }
}

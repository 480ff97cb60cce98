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

    [Fact]
    public async Task TheClassifyPageSaysThatPdfsCannotBeReadNowNamingTheSettingNotThePath()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = $"page-{Guid.NewGuid():N}"[..20];
        var password = await _app.CreateUserAsync(name, Roles.User);
        using var browser = _app.CreateClient(); // keeps cookies, as a browser does
        await browser.LogInWithCookieAsync(name, password);
        var form = new MultipartFormDataContent { { new StringContent(await Hardening.HardeningRequests.FormTokenAsync(browser, "/classify")), "__RequestVerificationToken" } };
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(TestDocuments.TextPdf, ct)), "Upload", "invoice.pdf");

        var response = await browser.PostAsync("/classify", form, ct);

        var html = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {html[..Math.Min(300, html.Length)]}");
        Assert.Contains("PDFs cannot be read on this server now", html);
        Assert.Contains("Imaging:MutoolPath", html);
        Assert.DoesNotContain("/nonexistent", html);
    }
}

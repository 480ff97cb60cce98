using System.Net;
using System.Text.Json;
using Dsdc.Auth;
using Dsdc.Inference.Api;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Api;

/// <summary>
/// The uploads under way hold at most <c>Api:MaxUploadBytesInFlight</c> (<c>UploadBudget</c>): one that does not fit is
/// answered 503 with Retry-After before its body is read, by the API and by the pages, and the bytes are given back as
/// each request ends. On a real Kestrel port, where a request reaches the app before its body has arrived.
/// </summary>
public sealed class UploadBudgetTests(UploadBudgetTests.App app) : IClassFixture<UploadBudgetTests.App>
{
    public const int FileBytes = 300_000;
    public const long InFlight = 800_000;

    /// <summary>One file or batch up to 400,000 bytes; 800,000 bytes of uploads at once.</summary>
    public sealed class App : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false", ["Pipeline:Enabled"] = "false", ["Training:Enabled"] = "false",
            ["Inference:ReloadIntervalSeconds"] = "0", ["Auth:UserCacheSeconds"] = "0",
            ["Api:MaxUploadBytes"] = "400000", ["Api:MaxBatchUploadBytes"] = "400000",
            ["Api:MaxUploadBytesInFlight"] = InFlight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            UseKestrel(Ui.UiApp.FreePort());
            StartServer();
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Bytes that are no document (the API answers 415 once it has read them).</summary>
    private static byte[] Noise(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task AnUploadThatDoesNotFitBesideThoseUnderWayIsRefusedUnreadAndAdmittedOnceTheyEnd()
    {
        var budget = app.Services.GetRequiredService<UploadBudget>();
        var name = $"budget-{Guid.NewGuid():N}"[..20];
        var password = await app.CreateUserAsync(name, Roles.User);
        using var bearer = await app.CreateClientWithRoleAsync(Roles.User);
        // Plain socket clients: the factory's own client goes through handlers of the test host.
        using var client = new HttpClient { BaseAddress = bearer.BaseAddress, Timeout = Timeout.InfiniteTimeSpan }; // bounded by Ct
        client.DefaultRequestHeaders.Authorization = bearer.DefaultRequestHeaders.Authorization;
        using var browser = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new(), AllowAutoRedirect = false })
            { BaseAddress = bearer.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        await browser.LogInWithCookieAsync(name, password);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stalled = new List<StalledUpload>();
        try
        {
            // Two uploads of 300,000 bytes each, sent halfway: about 600,000 of the 800,000 bytes are held.
            for (var i = 0; i < 2; i++) stalled.Add(await StalledUpload.CreateAsync(ApiRequests.File(Noise(FileBytes), $"slow{i}.tif"), release.Task));
            var slow = stalled.Select(s => client.PredictAsync(s)).ToList();
            await Task.WhenAll(stalled.Select(s => s.HalfSent));
            var held = stalled.Sum(s => s.Headers.ContentLength!.Value);
            await WaitUntilAsync(() => budget.Reserved == held, $"{held} bytes reserved");

            // 300,000 more do not fit: refused at once, the API's way and the pages' way.
            var predict = await client.PredictAsync(ApiRequests.File(Noise(FileBytes), "third.tif"));
            var batch = await client.PostAsync("/api/v1/documents", ApiRequests.File(Noise(FileBytes), "third.tif", "files"), Ct);
            var page = await browser.PostAsync("/classify", ApiRequests.File(Noise(FileBytes), "third.tif", "Upload"), Ct);
            var uploadPage = await browser.PostAsync("/upload", ApiRequests.File(Noise(FileBytes), "third.tif", "Files"), Ct);
            // 100,000 do: admitted, read, and refused for what they are.
            var small = await client.PredictAsync(ApiRequests.File(Noise(100_000), "small.tif"));

            foreach (var refused in new[] { predict, batch })
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.Equal("2", refused.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement;
                Assert.Equal("uploads-busy", problem.GetProperty("reason").GetString());
                Assert.Equal("Too many uploads are being received right now; retry in 2 s.", problem.GetProperty("detail").GetString());
            }
            foreach (var refused in new[] { page, uploadPage })
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.NotNull(refused.Headers.RetryAfter);
                Assert.Contains("Too many uploads are being received right now", await refused.Content.ReadAsStringAsync(Ct));
            }
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, small.StatusCode);
            Assert.All(slow, t => Assert.False(t.IsCompleted, "a stalled upload was answered before its file arrived"));
            // The admitted one gives its bytes back as its request ends (just after its answer).
            await WaitUntilAsync(() => budget.Reserved == held, $"{held} bytes reserved");

            release.SetResult();
            foreach (var response in await Task.WhenAll(slow))
                Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
            // Every byte is given back as its request ends, whatever its answer.
            await WaitUntilAsync(() => budget.Reserved == 0, "nothing reserved");
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PredictAsync(ApiRequests.File(Noise(FileBytes), "again.tif"))).StatusCode);
            await WaitUntilAsync(() => budget.Reserved == 0, "nothing reserved");
        }
        finally
        {
            release.TrySetResult();
            foreach (var s in stalled) s.Dispose();
        }
    }

    /// <summary>
    /// Only the upload endpoints read a body past 1 MiB: an anonymous token request or log-in form carrying a file
    /// (multipart, which their form readers accept and would keep in a temporary file) is refused once past it (413; 400 from
    /// the page's antiforgery check), as is any other endpoint's; the uploads keep their own limit.
    /// </summary>
    [Fact]
    public async Task EveryOtherEndpointReadsAtMostAMebibyte()
    {
        using var factoryClient = app.CreateClient();
        // A plain socket client on the app's Kestrel port.
        using var client = new HttpClient { BaseAddress = factoryClient.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        MultipartFormDataContent Form(int bytes)
        {
            var form = ApiRequests.File(Noise(bytes), "big.bin", "attachment");
            form.Add(new StringContent("nobody"), "username");
            form.Add(new StringContent("wrong"), "password");
            return form;
        }

        // The refusal comes as soon as the request's length is read: the client waits for it before sending its body.
        async Task<HttpResponseMessage> PostAsync(string path, int bytes)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Form(bytes) };
            request.Headers.ExpectContinue = true;
            return await client.SendAsync(request, Ct);
        }

        var token = await PostAsync("/api/v1/token", 2 * 1024 * 1024);
        var login = await PostAsync("/login", 2 * 1024 * 1024);
        var small = await PostAsync("/api/v1/token", 100_000);

        // (The page's antiforgery check reads the form first and answers a body over the limit with 400.)
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, token.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, small.StatusCode); // read, and the credentials refused
    }

    [Fact]
    public void TheBudgetMustHoldOneBatch()
    {
        var options = new PredictionApiOptions { MaxUploadBytes = 400_000, MaxBatchUploadBytes = 400_000, MaxUploadBytesInFlight = 400_000 };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();

        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Contains(nameof(PredictionApiOptions.MaxUploadBytesInFlight), Assert.Single(results).MemberNames);
        options.MaxUploadBytesInFlight = UploadLimits.BatchRequestBytes(options);
        Assert.True(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results = [], validateAllProperties: true));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not {what} after 30 s");
            await Task.Delay(20, Ct);
        }
    }
}

using System.Text.RegularExpressions;
using System.Net;
using System.Net.Sockets;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Dsdc.Tests.Ui;

/// <summary>
/// The whole app on a real Kestrel port (a browser needs one) with a served model: five real pages per class (the fifth of a class lands on the test side) go through
/// the pipeline, then two training runs (so one can be promoted), and Debian's Chromium driven by Playwright.
/// </summary>
public sealed partial class UiApp : DsdcAppFactory
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const int PerClass = 5;

    private IPlaywright? _playwright;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Pipeline:Enabled"] = "false",
        ["Jobs:Server"] = "false",
        ["Training:Enabled"] = "false",
        ["Training:MinDocuments"] = "16",
        ["Training:CvRepeats"] = "1",
        ["Inference:ReloadIntervalSeconds"] = "0",
        ["Auth:UserCacheSeconds"] = "0",
    };

    public string BaseUrl { get; private set; } = "";
    public IBrowser Browser { get; private set; } = null!;
    public IReadOnlyList<(string Path, int Label)> Known { get; private set; } = [];

    /// <summary>Where the screenshots go: $DSDC_TEST_ARTIFACTS/screenshots, else TestResults/screenshots beside the tests.</summary>
    public static string ScreenshotDir =>
        Path.Combine(Environment.GetEnvironmentVariable("DSDC_TEST_ARTIFACTS") is { Length: > 0 } dir ? dir
            : Path.Combine(AppContext.BaseDirectory, "TestResults"), "screenshots");

    public override async ValueTask InitializeAsync()
    {
        // No browser is a failure with a clear message, never a silent skip.
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException(
                $"{ChromiumPath} is missing: the UI tests drive Debian's Chromium. Install it with `bash scripts/lib/install-deps.sh --browser` (scripts/test.sh does).");
        await base.InitializeAsync();
        var port = FreePort();
        UseKestrel(port);
        StartServer();
        BaseUrl = $"http://127.0.0.1:{port}";
        await SeedAndTrainAsync();
        Assertions.SetDefaultExpectTimeout(30_000); // the suite shares two cores with the browser
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
    }

    private async Task SeedAndTrainAsync()
    {
        Known = await CorpusSeeder.IngestLabelledAsync(Services, PerClass, ".tif", ".png");
        var training = Services.GetRequiredService<TrainingService>();
        var first = await training.TrainAsync(1, 40, "ui-tests", CancellationToken.None);
        if (first.Promotion?.ChampionRunId is null) throw new InvalidOperationException($"no champion: {first.Skipped}");
        await training.TrainAsync(1, 20, "ui-tests", CancellationToken.None);
    }

    /// <summary>A new user of <paramref name="role"/> logged in through the log-in page, in a browser context of its own.</summary>
    public async Task<(IBrowserContext Context, IPage Page, string User)> LogInAsync(string role)
    {
        var user = $"{role}-{Guid.NewGuid():N}"[..20];
        var password = await this.CreateUserAsync(user, role);
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, ViewportSize = new() { Width = 1280, Height = 900 } });
        // The whole suite shares two cores with this browser: pages can take longer than Playwright's default 30 s.
        context.SetDefaultTimeout(90_000);
        context.SetDefaultNavigationTimeout(90_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await WaitForAddressAsync(page, ClassifyAddress(), $"log-in as {user}");
        return (context, page, user);
    }

    /// <summary>
    /// Waits until the page's address matches <paramref name="address"/> (90 s), for a navigation the test started.
    /// The address is watched rather than awaited with <c>WaitForURLAsync</c>: the next steps wait for their own
    /// elements, and Playwright's wait for a load state of a navigation that has already happened has hung now and then,
    /// even with WaitUntil = Commit (once on /classify itself, its page fully shown).
    /// </summary>
    public static async Task WaitForAddressAsync(IPage page, Regex address, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!address.IsMatch(page.Url))
        {
            if (DateTime.UtcNow > deadline)
            {
                var body = await page.InnerTextAsync("body");
                throw new TimeoutException($"{what} ended on {page.Url}, not {address}: {body[..Math.Min(300, body.Length)]}");
            }
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"/classify([?#].*)?$")]
    private static partial Regex ClassifyAddress();

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotDir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, name + ".png"), FullPage = true });
    }

    public async Task<long> NonChampionRunAsync()
    {
        var registry = Services.GetRequiredService<ModelRegistry>();
        var champion = await registry.ChampionRunIdAsync(CancellationToken.None);
        return (await registry.RunsAsync(50, CancellationToken.None)).First(r => r.Status == "succeeded" && r.Id != champion).Id;
    }

    public Task<long?> ChampionAsync() => Services.GetRequiredService<ModelRegistry>().ChampionRunIdAsync(CancellationToken.None);

    public override async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        await base.DisposeAsync();
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class UiCollection : ICollectionFixture<UiApp>
{
    public const string Name = "ui-browser";
}

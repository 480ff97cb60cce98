using System.Net;
using System.Net.Http.Headers;
using Dsdc.Auth;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Api;

/// <summary>
/// Clients still sending their file hold no classification slot (<c>PredictionGate</c>). On a real Kestrel port: an
/// in-process test server reads a request's whole body before the app sees the request, so a stalled upload never
/// reaches the app there.
/// </summary>
public sealed class SlowUploadTests(SlowUploadTests.App app) : IClassFixture<SlowUploadTests.App>
{
    /// <summary>The zero-shot model serves (nothing is trained); one classification at a time, one waiting.</summary>
    public sealed class App : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false", ["Pipeline:Enabled"] = "false", ["Training:Enabled"] = "false",
            ["Inference:ReloadIntervalSeconds"] = "0", ["Auth:UserCacheSeconds"] = "0",
            ["Api:MaxConcurrentPredictions"] = "1", ["Api:QueueLimit"] = "1",
        };

        private int _predictsIn;

        /// <summary>Predict requests that the app has received (the start of its pipeline) and not answered yet.</summary>
        public int PredictsIn => Volatile.Read(ref _predictsIn);

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            UseKestrel(Ui.UiApp.FreePort());
            StartServer();
        }

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(s => s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new CountPredicts(this)));
        }

        private sealed class CountPredicts(App app) : Microsoft.AspNetCore.Hosting.IStartupFilter
        {
            public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> Configure(Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> next) => pipeline =>
            {
                pipeline.Use(async (context, nextMiddleware) =>
                {
                    if (!context.Request.Path.StartsWithSegments("/api/v1/predict"))
                    {
                        await nextMiddleware(context);
                        return;
                    }
                    Interlocked.Increment(ref app._predictsIn);
                    try
                    {
                        await nextMiddleware(context);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref app._predictsIn);
                    }
                });
                next(pipeline);
            };
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// With as many uploads under way as <c>Api:MaxConcurrentPredictions</c> + <c>Api:QueueLimit</c> (1 + 1), each sent
    /// halfway and stalled, a third client's document is classified at once; the stalled ones are classified once their
    /// files arrive. Before, a slot was taken as the request came in, so the third client got 503 Busy.
    /// </summary>
    [Fact]
    public async Task UploadsStillUnderWayHoldNoSlotFromDocumentsReadyToClassify()
    {
        using var authorised = await app.CreateClientWithRoleAsync(Roles.User);
        Assert.Equal("127.0.0.1", authorised.BaseAddress?.Host);
        // A plain socket client: the factory's own client goes through handlers of the test host.
        using var client = new HttpClient { BaseAddress = authorised.BaseAddress, Timeout = Timeout.InfiniteTimeSpan }; // bounded by Ct
        client.DefaultRequestHeaders.Authorization = authorised.DefaultRequestHeaders.Authorization;
        var page = await File.ReadAllBytesAsync(Fixtures.First(".tif").Path, Ct);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stalled = new List<StalledUpload>();
        try
        {
            for (var i = 0; i < 2; i++) stalled.Add(await StalledUpload.CreateAsync(ApiRequests.File(page, $"slow{i}.tif"), release.Task));
            var slow = stalled.Select(s => client.PredictAsync(s)).ToList();
            await Task.WhenAll(stalled.Select(s => s.HalfSent));
            await WaitForPredictsInAsync(2);

            var ready = await client.PredictAsync(ApiRequests.File(page, "ready.tif"));

            Assert.True(ready.StatusCode == HttpStatusCode.OK, $"{(int)ready.StatusCode}: {await ready.Content.ReadAsStringAsync(Ct)}");
            Assert.All(slow, t => Assert.False(t.IsCompleted, "a stalled upload was answered before its file arrived"));
            release.SetResult();
            foreach (var response in await Task.WhenAll(slow))
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
        }
        finally
        {
            release.TrySetResult();
            foreach (var s in stalled) s.Dispose();
        }
    }

    /// <summary>Until the app has received at least <paramref name="count"/> predict requests that it has not answered.</summary>
    private async Task WaitForPredictsInAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (app.PredictsIn < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{app.PredictsIn} predict request(s) received after 30 s, {count} expected");
            await Task.Delay(20, Ct);
        }
    }
}

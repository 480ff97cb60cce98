using System.Net;
using Dsdc.Auth;
using Dsdc.Tests.Api;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using static Dsdc.Tests.Hardening.HardeningRequests;

namespace Dsdc.Tests.Hardening;

/// <summary>Issue 14, defect 7: with no model, a bad file is still told what is wrong with it first; "no model" says when to retry.</summary>
public sealed class NoModelPredictTests(NoModelPredictTests.App app) : IClassFixture<NoModelPredictTests.App>
{
    public sealed class App : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false", ["Pipeline:Enabled"] = "false", ["Training:Enabled"] = "false",
            ["Inference:ReloadIntervalSeconds"] = "0", ["Auth:UserCacheSeconds"] = "0", ["Inference:ZeroShot"] = "false",
        };
    }

    [Fact]
    public async Task AnEmptyOrUnsupportedFileIsRefusedForWhatItIsBeforeNoModel()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        await AssertProblemAsync(await client.PredictAsync(ApiRequests.File([], "empty.png")), HttpStatusCode.UnprocessableEntity);
        await AssertProblemAsync(await client.PredictAsync(ApiRequests.File("just text"u8.ToArray(), "a.tif")), HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task AValidFileWithNoModelGets503WithRetryAfter()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        var response = await client.PredictAsync(ApiRequests.File(Fixtures.PngBlankPage(60, 80), "page.png"));

        await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
    }
}

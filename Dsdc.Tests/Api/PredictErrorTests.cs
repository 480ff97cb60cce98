using System.Net;
using Dsdc.Auth;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Api;

/// <summary>Every refusal of the predict endpoint, each a ProblemDetails with the right status.</summary>
[Collection(ApiCollection.Name)]
public sealed class PredictErrorTests(ApiApp app)
{
    private static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return body;
    }

    [Fact]
    public async Task WithoutATokenPredictAnswers401()
    {
        using var client = app.CreateClient();

        var response = await client.PredictAsync(ApiRequests.File(Fixtures.First(".png").Path));

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task WithoutAFileItAnswers400()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        await AssertProblemAsync(await client.PredictAsync(ApiRequests.File([1, 2, 3], "x.png", field: "document")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ABodyThatIsNotAMultipartFormAnswers415()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        await AssertProblemAsync(await client.PredictAsync(new StringContent("{}", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task AnUnsupportedTypeAnswers415()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        var response = await client.PredictAsync(ApiRequests.File("Plain text, not a scan."u8.ToArray(), "letter.tif"));

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task ATooLargeUploadAnswers413()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var big = new byte[ApiApp.MaxUpload + 1024 * 1024];

        await AssertProblemAsync(await client.PredictAsync(ApiRequests.File(big, "huge.tif")), HttpStatusCode.RequestEntityTooLarge);
    }

    /// <summary>A file within the API's limit but over the pipeline's (Imaging:MaxFileBytes): 413 naming the limit that refused it.</summary>
    [Fact]
    public async Task AFileOverThePipelinesOwnLimitAnswers413NamingThatLimit()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var tif = await File.ReadAllBytesAsync(Fixtures.First(".tif").Path, TestContext.Current.CancellationToken);
        var padded = new byte[ApiApp.MaxDocument + 1024];
        tif.CopyTo(padded, 0);

        var body = await AssertProblemAsync(await client.PredictAsync(ApiRequests.File(padded, "padded.tif")), HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains("Imaging:MaxFileBytes", body);
        Assert.DoesNotContain("Api:MaxUploadBytes", body);
    }

    [Fact]
    public async Task AnUnreadableDocumentAnswers422()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var tif = await File.ReadAllBytesAsync(Fixtures.First(".tif").Path, TestContext.Current.CancellationToken);

        await AssertProblemAsync(await client.PredictAsync(ApiRequests.File(tif[..200], "truncated.tif")), HttpStatusCode.UnprocessableEntity);
        await AssertProblemAsync(await client.PredictAsync(ApiRequests.File([], "empty.png")), HttpStatusCode.UnprocessableEntity);
        await AssertProblemAsync(await client.PredictAsync(ApiRequests.File(Fixtures.PngHeaderOnly(100_000, 100_000), "bomb.png")), HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task OverloadAnswers503WithRetryAfterInsteadOfTimingOut()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var page = await File.ReadAllBytesAsync(Fixtures.First(".tif").Path, TestContext.Current.CancellationToken);

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => client.PredictAsync(ApiRequests.File(page, "page.tif"))));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var busy = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(busy);
        Assert.All(busy, r => Assert.True(r.Headers.RetryAfter is not null, "Retry-After missing"));
        Assert.All(busy, r => Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType));
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, r.StatusCode.ToString()));
    }
}

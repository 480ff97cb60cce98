using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dsdc.Auth;
using Dsdc.Tests.Api;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using static Dsdc.Tests.Hardening.HardeningRequests;

namespace Dsdc.Tests.Hardening;

/// <summary>
/// Issue 14, defects 1, 2, 3 and 7: every malformed request is a 4xx ProblemDetails with a type, a missing or mistyped
/// field is a validation error (never a default value), NUL bytes never reach PostgreSQL, and 401/403 answers carry the
/// security headers. The app with a served model (<see cref="ApiApp"/>: one prediction at a time, one waiting).
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class MalformedRequestTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<string> AnyDocumentIdAsync() => app.ScalarAsync<string>("SELECT id FROM ingestion.original_documents ORDER BY id LIMIT 1");

    private Task<long> HumanLabelsAsync(string id) =>
        app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id AND source = 'human'", new { id });

    [Fact]
    public async Task ALabelSentAsAStringOrMissingIsAValidationErrorAndNothingIsStored()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var id = await AnyDocumentIdAsync();
        var before = await HumanLabelsAsync(id);

        foreach (var body in new[] { """{"label":"7"}""", """{}""", """{"label":null}""", """{"label":7.5}""", """{"label":16}""", """{"label":"abc"}""" })
        {
            var response = await client.PostAsync($"/api/v1/documents/{id}/label", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body}: {(int)response.StatusCode}");
        }

        Assert.Equal(before, await HumanLabelsAsync(id));
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/v1/documents/{id}/label", new { label = 7 }, Ct)).StatusCode);
    }

    [Fact]
    public async Task ATruncatedOrMalformedMultipartBodyIs400ProblemDetailsNever500()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var png = Fixtures.PngBlankPage(40, 40);

        // No closing boundary: the body ends inside the file part.
        await AssertProblemAsync(await client.PredictAsync(FilePart(png, "filename=\"cut.png\"", close: false)), HttpStatusCode.BadRequest);
        // The part's headers never end.
        await AssertProblemAsync(await client.PredictAsync(RawBody("--b0undary\r\nContent-Disposition: form-data; name=\"file\""u8.ToArray(),
            "multipart/form-data; boundary=b0undary")), HttpStatusCode.BadRequest);
        // Not multipart at all under a multipart content type.
        await AssertProblemAsync(await client.PredictAsync(RawBody(png, "multipart/form-data; boundary=b0undary")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task AMultipartContentTypeWithoutBoundaryIs400NotTooLarge()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        await AssertProblemAsync(await client.PredictAsync(RawBody("--x\r\n\r\n--x--\r\n"u8.ToArray(), "multipart/form-data")), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await client.PredictAsync(RawBody("--x\r\n\r\n--x--\r\n"u8.ToArray(), "multipart/form-data; boundary=")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ANulByteInAnUploadsFileNameIsDroppedNotA500()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var png = Fixtures.PngBlankPage(300 + Random.Shared.Next(200), 400);

        var response = await client.PredictAsync(FilePart(png, "filename*=UTF-8''in%00voice%01.png"));

        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        using var json = System.Text.Json.JsonDocument.Parse(body);
        var id = json.RootElement.GetProperty("documentId").GetString();
        Assert.Equal("invoice.png", await app.ScalarAsync<string>("SELECT original_name FROM ingestion.original_documents WHERE id = @id", new { id }));
    }

    /// <summary>A search for '_' or '%' finds the names that hold it, not every document (they are LIKE wildcards, and
    /// only a hexadecimal query is matched as an id prefix); a hexadecimal prefix still finds its document.</summary>
    [Fact]
    public async Task TheDocumentsSearchTakesWildcardCharactersLiterally()
    {
        var queries = app.Get<Dsdc.Web.Ui.UiQueries>();
        var (all, _) = await queries.DocumentsAsync(null, 1, Ct);
        Assert.NotEmpty(all);
        foreach (var q in new[] { "_", "%", "a_c" })
        {
            var (found, _) = await queries.DocumentsAsync(q, 1, Ct);
            Assert.All(found, d => Assert.Contains(q, d.OriginalName, StringComparison.OrdinalIgnoreCase));
        }
        var id = all[0].Id;
        Assert.Contains((await queries.DocumentsAsync(id[..8], 1, Ct)).Items, d => d.Id == id);
    }

    [Fact]
    public async Task ANulByteInTheDocumentsSearchIsNot500AndASimilarIdIsChecked()
    {
        var name = $"search-{Guid.NewGuid():N}"[..20];
        var password = await app.CreateUserAsync(name, Roles.User);
        using var browser = app.CreateClient();
        await browser.LogInWithCookieAsync(name, password);
        foreach (var q in new[] { "%00", "a%00b", "%00%25_%5C", "invoice%00" })
        {
            var response = await browser.GetAsync("/documents?q=" + q, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"q={q}: {(int)response.StatusCode}");
        }

        using var api = await app.CreateClientWithRoleAsync(Roles.User);
        var similar = await api.GetAsync("/api/v1/documents/..%2F..%2Fetc%2Fpasswd/similar", Ct);
        await AssertProblemAsync(similar, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UnauthorizedAndForbiddenAnswersCarryTheSecurityHeaders()
    {
        using var anonymous = app.CreateClient();
        using var user = await app.CreateClientWithRoleAsync(Roles.User);

        foreach (var response in new[] { await anonymous.GetAsync("/api/v1/me", Ct), await user.GetAsync("/api/v1/users", Ct) })
        {
            Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, response.StatusCode.ToString());
            Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("DENY", string.Join(",", response.Headers.GetValues("X-Frame-Options")));
            Assert.Contains("frame-ancestors 'none'", string.Join(",", response.Headers.GetValues("Content-Security-Policy")));
            Assert.True(response.Headers.Contains("Referrer-Policy"));
        }
    }

    [Fact]
    public async Task TheUisClassifyFormSharesTheApisConcurrencyLimit()
    {
        var name = $"ui-{Guid.NewGuid():N}"[..20];
        var password = await app.CreateUserAsync(name, Roles.User);
        using var browser = app.CreateClient(new() { AllowAutoRedirect = false });
        await browser.LogInWithCookieAsync(name, password);
        var token = await FormTokenAsync(browser, "/classify");
        var page = await File.ReadAllBytesAsync(Fixtures.First(".tif").Path, Ct);

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
        {
            var form = new MultipartFormDataContent { { new StringContent(token), "__RequestVerificationToken" } };
            var file = new ByteArrayContent(page);
            file.Headers.ContentType = OctetStream;
            form.Add(file, "Upload", "page.tif");
            return browser.PostAsync("/classify", form, Ct);
        }));

        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.Redirect);
        var busy = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(busy);
        Assert.All(busy, r => Assert.NotNull(r.Headers.RetryAfter));
        // A person, not an API client: the answer is a page that says what happened, not ProblemDetails JSON.
        foreach (var r in busy)
        {
            Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
            var html = await r.Content.ReadAsStringAsync(Ct);
            Assert.Contains("Too many documents are being classified right now; retry in", html);
            Assert.Contains("href=\"/classify\"", html);
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dsdc.Auth;
using Dsdc.Shared;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Api;

/// <summary><c>POST /api/v1/documents</c>: several files through the inbox's ingestion, with a class, duplicates and refusals.</summary>
[Collection(ApiCollection.Name)]
public sealed class DocumentUploadTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static MultipartFormDataContent Files(IEnumerable<(byte[] Bytes, string Name)> files, string? label = null)
    {
        var content = new MultipartFormDataContent();
        foreach (var (bytes, name) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(part, "files", name);
        }
        if (label is not null) content.Add(new StringContent(label), "label");
        return content;
    }

    private static (byte[], string) Real(string path) => (File.ReadAllBytes(path), Path.GetFileName(path));

    private IReadOnlyList<string> Unseen(int skip, int count) => UnseenDocuments.Take(app.Known.Select(k => k.Path), skip, count);

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task SeveralFilesWithAClassAreStoredLabelledAndADuplicateAndABadFileAreToldApart()
    {
        var (client, user) = await ClientAsync(Roles.User);
        using var _ = client;
        var fresh = Unseen(0, 3);
        var known = app.Known[0].Path;
        var content = Files([.. fresh.Select(Real), Real(known), ("Plain text, not a scan."u8.ToArray(), "notes.tif")], label: "11");

        var response = await client.PostAsync("/api/v1/documents", content, Ct);

        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var result = JsonDocument.Parse(body).RootElement;
        Assert.Equal(11, result.GetProperty("label").GetInt32());
        Assert.Equal((3, 1, 1), (result.GetProperty("accepted").GetInt32(), result.GetProperty("duplicates").GetInt32(), result.GetProperty("rejected").GetInt32()));
        var files = result.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(5, files.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("accepted", files[i].GetProperty("outcome").GetString());
            Assert.Equal(Path.GetFileName(fresh[i]), files[i].GetProperty("fileName").GetString());
            var id = files[i].GetProperty("documentId").GetString();
            Assert.Equal(UnseenDocuments.Sha1(fresh[i]), id);
            // The class is a human label with who wrote it, as a correction would be.
            Assert.Equal(user, await app.ScalarAsync<string>(
                "SELECT created_by FROM ingestion.labels WHERE document_id = @id AND source = 'human' AND label = 11", new { id }));
        }
        Assert.Equal("duplicate", files[3].GetProperty("outcome").GetString());
        Assert.Equal(UnseenDocuments.Sha1(known), files[3].GetProperty("duplicateOf").GetString());
        Assert.Equal("rejected", files[4].GetProperty("outcome").GetString());
        Assert.Equal("unsupported-format", files[4].GetProperty("reasonCode").GetString());
        Assert.False(string.IsNullOrWhiteSpace(files[4].GetProperty("reason").GetString()));

        // Nothing lost: the refused files are recorded the way the inbox records rejections, and lie under rejected/.
        var batch = result.GetProperty("batch").GetString()!;
        var rejectedPath = await app.ScalarAsync<string>(
            "SELECT rejected_path FROM ingestion.rejected_documents WHERE source_folder LIKE @p AND reason_code = 'unsupported-format'", new { p = $"upload-{batch}-%" });
        Assert.True(File.Exists(Path.Combine(app.Get<DsdcPaths>().DataDir, rejectedPath, "notes.tif")), rejectedPath);
        Assert.Equal(1, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.rejected_documents WHERE source_folder LIKE @p AND reason_code = 'duplicate'",
            new { p = $"upload-{batch}-%" }));

        // The batch can be followed: the same outcomes, with the pipeline stages of the accepted documents.
        var status = await client.GetFromJsonAsync<JsonElement>(result.GetProperty("statusUrl").GetString(), Ct);
        var recorded = status.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(["accepted", "accepted", "accepted", "duplicate", "rejected"], recorded.Select(f => f.GetProperty("outcome").GetString()));
        Assert.Equal(JsonValueKind.Object, recorded[0].GetProperty("stages").ValueKind);

        // A document a stage could not process is counted as failed, not left "waiting" for good.
        var first = recorded[0].GetProperty("documentId").GetString();
        await app.ScalarAsync<int>("""
            INSERT INTO pipeline.stage_failures (document_id, stage, processor_version, error) VALUES (@first, 'ocr', 'test', 'unreadable page')
            ON CONFLICT DO NOTHING RETURNING 0
            """, new { first });
        status = await client.GetFromJsonAsync<JsonElement>(result.GetProperty("statusUrl").GetString(), Ct);
        var stages = status.GetProperty("files")[0].GetProperty("stages");
        // (No job server runs in these tests: the upload's documents stay before their stages.)
        Assert.False(stages.GetProperty("ocr").GetBoolean());
        Assert.Equal("ocr", stages.GetProperty("failedStage").GetString());
        Assert.Equal(1, status.GetProperty("failed").GetInt32());
        await app.ScalarAsync<int>("DELETE FROM pipeline.stage_failures WHERE document_id = @first AND processor_version = 'test' RETURNING 0", new { first });
    }

    [Fact]
    public async Task ADuplicateUploadedWithAClassLabelsAKnownDocumentThatHasNoneAndLeavesALabelledOneAlone()
    {
        var (client, user) = await ClientAsync(Roles.User);
        using var _ = client;
        var path = Unseen(7, 1)[0];
        var id = UnseenDocuments.Sha1(path);
        async Task<JsonElement> UploadAsync(string? label)
        {
            var response = await client.PostAsync("/api/v1/documents", Files([Real(path)], label), Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            return JsonDocument.Parse(body).RootElement.GetProperty("files")[0];
        }
        Task<List<(short Label, string Source, string? CreatedBy)>> LabelsAsync() =>
            app.QueryAsync<(short, string, string?)>("SELECT label, source, created_by FROM ingestion.labels WHERE document_id = @id ORDER BY id", new { id });

        Assert.Equal("accepted", (await UploadAsync(null)).GetProperty("outcome").GetString());
        Assert.Empty(await LabelsAsync());

        // The same file again with a class: the known document had none, so it takes this one, as the person's label.
        var labelled = await UploadAsync("11");
        Assert.Equal(("duplicate", id), (labelled.GetProperty("outcome").GetString(), labelled.GetProperty("duplicateOf").GetString()));
        Assert.Contains("it had no class and now has this file's, 'invoice'", labelled.GetProperty("reason").GetString());
        Assert.Equal([((short)11, "human", user)], await LabelsAsync());

        // Once labelled, another class that comes with a copy is not applied, and the reason says where to change it.
        var other = await UploadAsync("4");
        Assert.Contains("it keeps its class 'invoice' (this file's 'advertisement' was not applied: change it on the document's page)",
            other.GetProperty("reason").GetString());
        Assert.Contains("already has the class 'invoice'", (await UploadAsync("11")).GetProperty("reason").GetString());
        Assert.Equal([((short)11, "human", user)], await LabelsAsync());
    }

    /// <summary>A folder picked or dropped from a Mac or a Windows share holds <c>.DS_Store</c>, <c>._name</c> or <c>Thumbs.db</c>
    /// beside its documents: they are left out and named, as the inbox leaves them out, not rejected as documents of no
    /// known type; an upload of nothing else is told it holds no document.</summary>
    [Fact]
    public async Task FilesAnOperatingSystemWritesBesideDocumentsAreLeftOutNotRejected()
    {
        var (client, _) = await ClientAsync(Roles.User);
        using var _ = client;
        var path = Unseen(8, 1)[0];
        byte[] junk = [0, 0, 0, 1, 66, 117, 100, 49];

        var response = await client.PostAsync("/api/v1/documents",
            Files([(junk, ".DS_Store"), Real(path), (junk, "._" + Path.GetFileName(path)), (junk, "scans/Thumbs.db")]), Ct);

        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var result = JsonDocument.Parse(body).RootElement;
        Assert.Equal((1, 0), (result.GetProperty("accepted").GetInt32(), result.GetProperty("rejected").GetInt32()));
        var file = Assert.Single(result.GetProperty("files").EnumerateArray());
        Assert.Equal(Path.GetFileName(path), file.GetProperty("fileName").GetString());
        Assert.Equal([".DS_Store", "._" + Path.GetFileName(path), "Thumbs.db"],
            result.GetProperty("ignored").EnumerateArray().Select(e => e.GetString()).ToArray());
        var batch = result.GetProperty("batch").GetString()!;
        Assert.Equal(0L, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.rejected_documents WHERE source_folder LIKE @p", new { p = $"upload-{batch}-%" }));

        var only = await ProblemAsync(await client.PostAsync("/api/v1/documents", Files([(junk, ".DS_Store"), (junk, "desktop.ini")]), Ct),
            HttpStatusCode.BadRequest);
        Assert.StartsWith("The upload holds no document, only files an operating system writes beside documents (.DS_Store, desktop.ini)",
            only.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData(Roles.User, 3)]
    [InlineData(Roles.ModelAdmin, 4)]
    [InlineData(Roles.Admin, 5)]
    public async Task EveryRoleFromUserUpMayUploadWithoutAClass(string role, int file)
    {
        var (client, _) = await ClientAsync(role);
        using var _ = client;
        var path = Unseen(file, 1)[0];

        var response = await client.PostAsync("/api/v1/documents", Files([Real(path)]), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("label").ValueKind);
        var id = result.GetProperty("files")[0].GetProperty("documentId").GetString();
        Assert.Equal(0, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id", new { id }));
    }

    [Fact]
    public async Task WithoutATokenItAnswers401()
    {
        using var client = app.CreateClient();

        var response = await client.PostAsync("/api/v1/documents", Files([("x"u8.ToArray(), "x.png")]), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AnInvalidClassIsAValidationProblemAndNothingIsStored()
    {
        var (client, _) = await ClientAsync(Roles.User);
        using var _ = client;
        var before = await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents");

        var problem = await ProblemAsync(await client.PostAsync("/api/v1/documents", Files([Real(Unseen(6, 1)[0])], label: "16"), Ct),
            HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("label", out var labelErrors), labelErrors.ToString());
        Assert.Equal(before, await app.ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents"));
    }

    [Fact]
    public async Task MalformedRequestsAnswerProblemDetails()
    {
        var (client, _) = await ClientAsync(Roles.User);
        using var _ = client;

        // No boundary in the content type.
        var noBoundary = new ByteArrayContent("--x\r\n"u8.ToArray());
        noBoundary.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data");
        await ProblemAsync(await client.PostAsync("/api/v1/documents", noBoundary, Ct), HttpStatusCode.BadRequest);
        // A truncated multipart body.
        var truncated = new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.png\"\r\n\r\nabc"u8.ToArray());
        truncated.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");
        await ProblemAsync(await client.PostAsync("/api/v1/documents", truncated, Ct), HttpStatusCode.BadRequest);
        // Files under another field name: no documents.
        var wrongField = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "file", "a.png" } };
        await ProblemAsync(await client.PostAsync("/api/v1/documents", wrongField, Ct), HttpStatusCode.BadRequest);
        // Not a form at all.
        await ProblemAsync(await client.PostAsync("/api/v1/documents", JsonContent.Create(new { files = 1 }), Ct), HttpStatusCode.UnsupportedMediaType);
        // A file over Api:MaxUploadBytes.
        var big = Files([(new byte[ApiApp.MaxUpload + 1], "big.tif")]);
        await ProblemAsync(await client.PostAsync("/api/v1/documents", big, Ct), HttpStatusCode.RequestEntityTooLarge);
        // One file far over it beside a small one, the batch well under Api:MaxBatchUploadBytes: the answer names that
        // file and the limit it broke, not the batch's (the form reader's part limit was one file's, and stopped inside it).
        var oneTooBig = Files([(new byte[1024], "small.tif"), (new byte[ApiApp.MaxUpload + 1024 * 1024], "huge.tif")]);
        var problem = await ProblemAsync(await client.PostAsync("/api/v1/documents", oneTooBig, Ct), HttpStatusCode.RequestEntityTooLarge);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.StartsWith("'huge.tif': ", detail);
        Assert.Contains("(Api:MaxUploadBytes)", detail);
        Assert.DoesNotContain("Api:MaxBatchUploadBytes", detail);
    }

    [Fact]
    public async Task AnUnknownBatchAnswers404()
    {
        var (client, _) = await ClientAsync(Roles.User);
        using var _ = client;

        await ProblemAsync(await client.GetAsync("/api/v1/documents/batches/20200101-000000-abcdef", Ct), HttpStatusCode.NotFound);
    }

    private async Task<(HttpClient Client, string User)> ClientAsync(string role)
    {
        var name = $"{role}-{Guid.NewGuid():N}"[..24];
        var password = await app.CreateUserAsync(name, role);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await client.GetTokenAsync(name, password));
        return (client, name);
    }
}

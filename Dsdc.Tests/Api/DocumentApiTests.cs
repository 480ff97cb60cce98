using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dsdc.Auth;
using Dsdc.Shared;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Api;

/// <summary>
/// A stored document over the API (<c>GET /api/v1/documents/{id}</c>) and its label as a versioned resource
/// (<c>GET /api/v1/documents/{id}/label</c> with its ETag; <c>If-Match</c> and <c>If-None-Match: *</c> on the label's POST).
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class DocumentApiTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new, unlabelled stored document: a blank page of a size no other test uses, classified once.</summary>
    private static async Task<(string Id, JsonElement Prediction)> NewDocumentAsync(HttpClient client, int width)
    {
        var response = await client.PredictAsync(ApiRequests.File(Fixtures.PngBlankPage(width, 401 + Random.Shared.Next(300)), "page.png"));
        var body = await ApiRequests.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return (body.GetProperty("documentId").GetString()!, body);
    }

    private static Task<HttpResponseMessage> LabelAsync(HttpClient client, string id, int label, string? ifMatch = null, string? ifNoneMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/documents/{id}/label") { Content = JsonContent.Create(new { label }) };
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        return client.SendAsync(request, Ct);
    }

    private static Task<HttpResponseMessage> ConditionalGetAsync(HttpClient client, string id, string? ifMatch = null, string? ifNoneMatch = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/documents/{id}/label");
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        return client.SendAsync(request, Ct);
    }

    private Task<long> HumanLabelsAsync(string id) =>
        app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id AND source = 'human'", new { id });

    [Fact]
    public async Task ADocumentShowsItsFileStagesNewestPredictionAndCurrentLabel()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var (id, predicted) = await NewDocumentAsync(client, 611);

        using var before = await client.GetAsync($"/api/v1/documents/{id}", Ct);
        var document = await ApiRequests.JsonAsync(before);
        Assert.True(before.StatusCode == HttpStatusCode.OK, document.ToString());
        Assert.Equal(id, document.GetProperty("documentId").GetString());
        Assert.Equal("page.png", document.GetProperty("originalName").GetString());
        Assert.Equal("image/png", document.GetProperty("mediaType").GetString());
        Assert.Equal(611, document.GetProperty("width").GetInt32());
        Assert.Equal(1, document.GetProperty("pageCount").GetInt32());
        Assert.Equal(id, document.GetProperty("stages").GetProperty("documentId").GetString());
        Assert.Equal(JsonValueKind.Null, document.GetProperty("label").ValueKind);
        var prediction = document.GetProperty("prediction");
        Assert.Equal(predicted.GetProperty("predictionId").GetInt64(), prediction.GetProperty("predictionId").GetInt64());
        Assert.Equal(predicted.GetProperty("label").GetInt32(), prediction.GetProperty("label").GetInt32());
        Assert.Equal(predicted.GetProperty("className").GetString(), prediction.GetProperty("className").GetString());
        Assert.Equal(predicted.GetProperty("needsReview").GetBoolean(), prediction.GetProperty("needsReview").GetBoolean());
        Assert.Equal(predicted.GetProperty("topProbability").GetDouble(), prediction.GetProperty("topProbability").GetDouble(), 5);
        Assert.Equal(app.ChampionRunId, prediction.GetProperty("modelRunId").GetInt64());
        Assert.Equal(16, prediction.GetProperty("probabilities").GetArrayLength());

        // The label's POST answers with the label's place, which now answers, and the document shows it.
        using var labelled = await LabelAsync(client, id, 11);
        Assert.Equal(HttpStatusCode.Created, labelled.StatusCode);
        var created = await ApiRequests.JsonAsync(labelled);
        using var atLocation = await client.GetAsync(labelled.Headers.Location, Ct);
        Assert.Equal(HttpStatusCode.OK, atLocation.StatusCode);
        Assert.Equal(created.ToString(), (await ApiRequests.JsonAsync(atLocation)).ToString());
        var label = (await ApiRequests.JsonAsync(await client.GetAsync($"/api/v1/documents/{id}", Ct))).GetProperty("label");
        Assert.Equal("invoice", label.GetProperty("className").GetString());
        Assert.Equal("human", label.GetProperty("source").GetString());
        Assert.Equal(created.GetProperty("etag").GetString(), label.GetProperty("etag").GetString());
    }

    [Fact]
    public async Task AConditionalLabelIsWrittenOnlyOverTheLabelItsClientRead()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        using var colleague = await app.CreateClientWithRoleAsync(Roles.User);
        var (id, _) = await NewDocumentAsync(client, 623);

        // No label yet: the label resource is 404 "No label", and If-None-Match: * writes the first one, once.
        using var none = await client.GetAsync($"/api/v1/documents/{id}/label", Ct);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Equal("No label", (await ApiRequests.JsonAsync(none)).GetProperty("title").GetString());
        using var first = await LabelAsync(client, id, 3, ifNoneMatch: "*");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var firstTag = first.Headers.ETag!.ToString();
        Assert.Equal(firstTag, (await ApiRequests.JsonAsync(first)).GetProperty("etag").GetString());
        using var second = await LabelAsync(colleague, id, 5, ifNoneMatch: "*");
        Assert.Equal(HttpStatusCode.PreconditionFailed, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal("handwritten", (await ApiRequests.JsonAsync(second)).GetProperty("currentLabel").GetProperty("className").GetString());
        Assert.Equal(1, await HumanLabelsAsync(id));

        // The label read, then a colleague's correction: the correction sent with the old ETag is refused and names the
        // colleague's label; sent with the new one (read again) it is written.
        using var read = await client.GetAsync($"/api/v1/documents/{id}/label", Ct);
        var readTag = read.Headers.ETag!.ToString();
        Assert.Equal(firstTag, readTag);
        using var colleagues = await LabelAsync(colleague, id, 6);
        Assert.Equal(HttpStatusCode.Created, colleagues.StatusCode);
        using var stale = await LabelAsync(client, id, 4, ifMatch: readTag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        var refusal = await ApiRequests.JsonAsync(stale);
        Assert.Contains("\"scientific publication\"", refusal.GetProperty("detail").GetString());
        Assert.Contains("by user-", refusal.GetProperty("detail").GetString());
        Assert.Equal(colleagues.Headers.ETag!.ToString(), stale.Headers.ETag!.ToString());
        Assert.Equal(2, await HumanLabelsAsync(id));
        using var reread = await client.GetAsync($"/api/v1/documents/{id}/label", Ct);
        // The label's GET evaluates preconditions too: 304 for the version a client holds, 412 for one it no longer is.
        using var notModified = await ConditionalGetAsync(client, id, ifNoneMatch: reread.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(reread.Headers.ETag!.ToString(), notModified.Headers.ETag!.ToString());
        using var gone = await ConditionalGetAsync(client, id, ifMatch: readTag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, gone.StatusCode);
        using var stillThis = await ConditionalGetAsync(client, id, ifMatch: reread.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.OK, stillThis.StatusCode);
        using var fresh = await LabelAsync(client, id, 4, ifMatch: reread.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.Created, fresh.StatusCode);
        Assert.Equal(4, (await ApiRequests.JsonAsync(await client.GetAsync($"/api/v1/documents/{id}/label", Ct))).GetProperty("label").GetInt32());

        // The same class written again is a new version; a weak tag never matches If-Match; '*' matches any label; a tag in
        // If-None-Match refuses the write while the label is that one.
        var current = fresh.Headers.ETag!.ToString();
        using var weak = await LabelAsync(client, id, 4, ifMatch: "W/" + current);
        Assert.Equal(HttpStatusCode.PreconditionFailed, weak.StatusCode);
        using var notThis = await LabelAsync(client, id, 4, ifNoneMatch: current);
        Assert.Equal(HttpStatusCode.PreconditionFailed, notThis.StatusCode);
        using var any = await LabelAsync(client, id, 4, ifMatch: "*");
        Assert.Equal(HttpStatusCode.Created, any.StatusCode);
        Assert.NotEqual(current, any.Headers.ETag!.ToString());
        Assert.Equal(4, await HumanLabelsAsync(id));
    }

    [Fact]
    public async Task TheReviewQueueOverTheApiIsThePagesQueueAndItsVersionsGuardTheDecisions()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var (unlabelled, _) = await NewDocumentAsync(client, 641);
        // A labelled document whose newest prediction needs review waits too, with its label's version.
        var labelled = app.Known[^1].Path;
        var labelledId = UnseenDocuments.Sha1(labelled);
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
            await Dapper.SqlMapper.ExecuteAsync(conn, """
                INSERT INTO inference.predictions (document_id, user_name, model_run_id, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
                VALUES (@id, 'test', NULL, 'test', 2, 0.01, 0.0625, @p, 1, true)
                """, new { id = labelledId, p = Enumerable.Repeat(0.0625f, 16).ToArray() });
        try
        {
            var queue = app.Get<Dsdc.Inference.Review.ReviewQueue>();

            using var response = await client.GetAsync("/api/v1/review?limit=100", Ct);
            var body = await ApiRequests.JsonAsync(response);

            Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
            var expected = await queue.NextAsync(100, Ct);
            var entries = body.GetProperty("documents").EnumerateArray().ToList();
            Assert.Equal(expected.Select(i => i.DocumentId), entries.Select(e => e.GetProperty("documentId").GetString()));
            Assert.Equal(await queue.CountAsync(Ct), body.GetProperty("waiting").GetInt64());
            foreach (var (item, entry) in expected.Zip(entries))
            {
                Assert.Equal(item.Top(3).Select(t => t.Label), entry.GetProperty("top").EnumerateArray().Select(t => t.GetProperty("label").GetInt32()));
                Assert.Equal(item.Predicted is null ? JsonValueKind.Null : JsonValueKind.Number, entry.GetProperty("predicted").ValueKind);
            }
            var waitingLabelled = entries.Single(e => e.GetProperty("documentId").GetString() == labelledId);
            Assert.Equal("email", waitingLabelled.GetProperty("predictedClass").GetString());
            using var label = await client.GetAsync($"/api/v1/documents/{labelledId}/label", Ct);
            Assert.Equal(label.Headers.ETag!.ToString(), waitingLabelled.GetProperty("labelEtag").GetString());
            Assert.Equal(JsonValueKind.Null, entries.Single(e => e.GetProperty("documentId").GetString() == unlabelled)
                .GetProperty("labelEtag").ValueKind);

            // The limit is kept between 1 and 100.
            Assert.True(entries.Count >= 2);
            Assert.Single((await ApiRequests.JsonAsync(await client.GetAsync("/api/v1/review?limit=0", Ct))).GetProperty("documents").EnumerateArray());

            // Decided with the versions the queue gave (the labelled one confirmed in its class, which the other tests of the
            // collection train on): written, and both leave the queue.
            using var first = await LabelAsync(client, unlabelled, 8, ifNoneMatch: "*");
            using var replaced = await LabelAsync(client, labelledId, waitingLabelled.GetProperty("currentLabel").GetInt32(),
                ifMatch: waitingLabelled.GetProperty("labelEtag").GetString());
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
            Assert.Equal(HttpStatusCode.Created, replaced.StatusCode);
            var after = (await ApiRequests.JsonAsync(await client.GetAsync("/api/v1/review?limit=100", Ct))).GetProperty("documents").EnumerateArray()
                .Select(e => e.GetProperty("documentId").GetString()).ToList();
            Assert.DoesNotContain(unlabelled, after);
            Assert.DoesNotContain(labelledId, after);
        }
        finally
        {
            // The uniform prediction would otherwise stay the least certain of the queue for the collection's other tests.
            await using var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString);
            await Dapper.SqlMapper.ExecuteAsync(conn, "DELETE FROM inference.predictions WHERE document_id = @id AND user_name = 'test' AND top_probability = 0.0625", new { id = labelledId });
        }
    }

    [Fact]
    public async Task TheDocumentsListOverTheApiIsThePagesList()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var (newest, _) = await NewDocumentAsync(client, 653);
        var search = app.Get<Dsdc.Inference.Api.DocumentSearch>();

        foreach (var (q, page, size) in new (string?, int, int)[] { (null, 1, 25), (null, 2, 10), ("invoice", 1, 3), ("page.png", 1, 50) })
        {
            var query = $"/api/v1/documents?page={page}&pageSize={size}" + (q is null ? "" : $"&q={Uri.EscapeDataString(q)}");
            using var response = await client.GetAsync(query, Ct);
            var body = await ApiRequests.JsonAsync(response);
            Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());

            var (items, more) = await search.SearchAsync(q, page, size, Ct);
            var listed = body.GetProperty("documents").EnumerateArray().ToList();
            Assert.NotEmpty(items);
            Assert.Equal(items.Select(i => i.Id), listed.Select(d => d.GetProperty("documentId").GetString()));
            Assert.Equal(more, body.GetProperty("more").GetBoolean());
            Assert.Equal((page, size), (body.GetProperty("page").GetInt32(), body.GetProperty("pageSize").GetInt32()));
            foreach (var (item, entry) in items.Zip(listed))
            {
                Assert.Equal(item.Label is { } l ? DocumentClasses.NameOf(l) : null, entry.GetProperty("currentClass").GetString());
                Assert.Equal(item.PredictedLabel is { } p ? DocumentClasses.NameOf(p) : null, entry.GetProperty("predictedClass").GetString());
                Assert.Equal(item.HasImage && item.HasOcr && item.HasText && item.HasEmbedding, entry.GetProperty("processed").GetBoolean());
            }
            // A class name finds the documents labelled with it and those whose file name holds it.
            if (q == "invoice")
                Assert.All(listed, d => Assert.True(d.GetProperty("currentClass").GetString() == "invoice"
                    || d.GetProperty("originalName").GetString()!.Contains("invoice", StringComparison.OrdinalIgnoreCase), d.ToString()));
            if (q is null && page == 1) Assert.Equal(newest, listed[0].GetProperty("documentId").GetString()); // newest first
            foreach (var entry in listed.Where(e => e.GetProperty("currentLabel").ValueKind == JsonValueKind.Number))
            {
                using var label = await client.GetAsync($"/api/v1/documents/{entry.GetProperty("documentId").GetString()}/label", Ct);
                Assert.Equal(label.Headers.ETag!.ToString(), entry.GetProperty("labelEtag").GetString());
            }
        }
        // Pages and their sizes are kept in range.
        var clamped = await ApiRequests.JsonAsync(await client.GetAsync("/api/v1/documents?page=0&pageSize=1000", Ct));
        Assert.Equal((1, 100), (clamped.GetProperty("page").GetInt32(), clamped.GetProperty("pageSize").GetInt32()));
        var deepest = await ApiRequests.JsonAsync(await client.GetAsync($"/api/v1/documents?page={int.MaxValue}&pageSize=100&q={new string('x', 5000)}", Ct));
        Assert.Equal(25_000, deepest.GetProperty("page").GetInt32());
        Assert.Empty(deepest.GetProperty("documents").EnumerateArray());
    }

    [Fact]
    public async Task PagesReadWithNextNeitherRepeatNorSkipADocumentWhenNewerOnesArrive()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var (oldest, _) = await NewDocumentAsync(client, 661);
        var (middle, _) = await NewDocumentAsync(client, 662);
        var (newest, _) = await NewDocumentAsync(client, 663);

        var first = await ApiRequests.JsonAsync(await client.GetAsync("/api/v1/documents?pageSize=2", Ct));
        Assert.Equal([newest, middle], Ids(first));
        Assert.True(first.GetProperty("more").GetBoolean());
        var next = first.GetProperty("next").GetString()!;

        // A document stored meanwhile moves every numbered page by one: page 2 would repeat the one page 1 ended with.
        var (arrived, _) = await NewDocumentAsync(client, 664);
        var numbered = await ApiRequests.JsonAsync(await client.GetAsync("/api/v1/documents?page=2&pageSize=2", Ct));
        Assert.Equal(middle, Ids(numbered)[0]);
        using var response = await client.GetAsync($"/api/v1/documents?pageSize=2&after={Uri.EscapeDataString(next)}", Ct);
        var second = await ApiRequests.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, second.ToString());
        Assert.Equal(oldest, Ids(second)[0]);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("page").ValueKind);
        Assert.Equal(2, second.GetProperty("pageSize").GetInt32());

        // Walked to the end, the list gives every stored document once, newest first, as numbered pages read while nothing
        // arrives; the last page has no next. The same with a search.
        foreach (var (q, size) in new (string?, int)[] { (null, 7), ("page.png", 3), ("invoice", 2) })
        {
            var search = q is null ? "" : $"&q={Uri.EscapeDataString(q)}";
            var walked = new List<string>();
            string? after = null;
            for (var pages = 0; pages < 1000; pages++)
            {
                var page = await ApiRequests.JsonAsync(await client.GetAsync(
                    $"/api/v1/documents?pageSize={size}{search}" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}"), Ct));
                walked.AddRange(Ids(page));
                Assert.Equal(page.GetProperty("more").GetBoolean(), page.GetProperty("next").ValueKind == JsonValueKind.String);
                if (!page.GetProperty("more").GetBoolean()) break;
                after = page.GetProperty("next").GetString();
            }
            var (all, more) = await app.Get<Dsdc.Inference.Api.DocumentSearch>().SearchAsync(q, 1, 100_000, Ct);
            Assert.False(more);
            Assert.NotEmpty(all);
            Assert.Equal(all.Select(d => d.Id), walked);
            if (q is null) Assert.Equal(arrived, walked[0]);
        }

        // A cursor is passed back as it was given.
        foreach (var bad in new[] { "x", "12.", ".abc", "-5." + oldest, "1." + oldest.ToUpperInvariant(), "99999999999999999999." + oldest })
        {
            using var malformed = await client.GetAsync($"/api/v1/documents?after={Uri.EscapeDataString(bad)}", Ct);
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            Assert.Equal("Malformed cursor", (await ApiRequests.JsonAsync(malformed)).GetProperty("title").GetString());
        }
        using var both = await client.GetAsync($"/api/v1/documents?page=2&after={Uri.EscapeDataString(next)}", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        // Past the oldest document: an empty last page.
        var end = await ApiRequests.JsonAsync(await client.GetAsync($"/api/v1/documents?after=0.{oldest}", Ct));
        Assert.Empty(end.GetProperty("documents").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, end.GetProperty("next").ValueKind);

        static List<string> Ids(JsonElement page) =>
            page.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("documentId").GetString()!).ToList();
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheRoutesAndTheLabelsPreconditions()
    {
        using var client = app.CreateClient();

        using var doc = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json", Ct));

        var paths = doc.RootElement.GetProperty("paths");
        foreach (var (path, method) in new[] { ("/api/v1/documents", "get"), ("/api/v1/documents/{id}", "get"), ("/api/v1/review", "get") })
            Assert.True(paths.GetProperty(path).GetProperty(method).TryGetProperty("security", out _), $"{method} {path}");
        foreach (var method in new[] { "get", "post" })
        {
            var operation = paths.GetProperty("/api/v1/documents/{id}/label").GetProperty(method);
            var headers = operation.GetProperty("parameters").EnumerateArray()
                .Where(p => p.GetProperty("in").GetString() == "header").Select(p => p.GetProperty("name").GetString()).ToList();
            Assert.Equal(["If-Match", "If-None-Match"], headers);
            Assert.True(operation.GetProperty("responses").TryGetProperty("412", out _), method);
        }
    }

    [Fact]
    public async Task MalformedPreconditionsAndUnknownDocumentsAreProblemsThatWriteNothing()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var (id, _) = await NewDocumentAsync(client, 637);

        foreach (var (ifMatch, ifNoneMatch) in new (string?, string?)[] { ("3-human-1", null), (null, "not quoted"), ("\"a\" \"b\"", null) })
        {
            using var response = await LabelAsync(client, id, 2, ifMatch, ifNoneMatch);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Malformed precondition", (await ApiRequests.JsonAsync(response)).GetProperty("title").GetString());
        }
        // If-Match: * on a document without a label: there is no label to match.
        using var nothingToMatch = await LabelAsync(client, id, 2, ifMatch: "*");
        Assert.Equal(HttpStatusCode.PreconditionFailed, nothingToMatch.StatusCode);
        Assert.Contains("has no label now", (await ApiRequests.JsonAsync(nothingToMatch)).GetProperty("detail").GetString());
        Assert.Equal(0, await HumanLabelsAsync(id));

        var unknown = new string('0', 40);
        foreach (var path in new[] { $"/api/v1/documents/{unknown}", $"/api/v1/documents/{unknown}/label", "/api/v1/documents/..%2Fetc" })
        {
            using var response = await client.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        using var unknownLabel = await LabelAsync(client, unknown, 2, ifNoneMatch: "*");
        Assert.Equal(HttpStatusCode.NotFound, unknownLabel.StatusCode);

        using var anonymous = app.CreateClient();
        using var closed = await anonymous.GetAsync($"/api/v1/documents/{id}", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, closed.StatusCode);
    }
}

using System.Text.RegularExpressions;
using Dapper;
using Dsdc.Auth;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;
using Dsdc.Web.Ui;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;

namespace Dsdc.Tests.Ui;

/// <summary>The labelling workflow in Chromium: bulk upload, the review queue by keyboard, the labels overview, run comparison, and axe-core on every page.</summary>
[Collection(UiCollection.Name)]
public sealed partial class WorkflowBrowserTests(UiApp app)
{
    private async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Fact]
    public async Task TenFilesUploadedWithAClassEndWithTheirDocumentsAndTheDuplicateAndTheBadFileWithTheirReasons()
    {
        var (context, page, user) = await app.LogInAsync(Roles.User);
        await using var _ = context;
        var fresh = UnseenDocuments.Take(app.Known.Select(k => k.Path), 0, 10);
        var duplicate = app.Known[1].Path;
        using var scratch = new ScratchFolder("dsdc-ui-");
        var bad = scratch.File("not-a-scan.tif");
        await File.WriteAllTextAsync(bad, "Plain text, not a scan.", TestContext.Current.CancellationToken);

        await page.GotoAsync("/upload");
        await page.GetByLabel("Documents", new() { Exact = true }).SetInputFilesAsync([.. fresh, duplicate, bad]);
        await Assertions.Expect(page.GetByTestId("chosen")).ToContainTextAsync("12 files selected");
        await page.GetByLabel("Class of all these documents").SelectOptionAsync(new SelectOptionValue { Label = "11 invoice" });
        await UiApp.ScreenshotAsync(page, "upload");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
        await UiApp.WaitForAddressAsync(page, BatchUrl(), "the upload");

        await Assertions.Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("10 accepted, 1 duplicate, 1 rejected");
        var rows = page.GetByTestId("batch-file");
        await Assertions.Expect(rows).ToHaveCountAsync(12);
        await Assertions.Expect(page.Locator("tr[data-outcome=accepted]")).ToHaveCountAsync(10);
        foreach (var path in fresh)
            await Assertions.Expect(page.Locator($"tr[data-document-id='{UnseenDocuments.Sha1(path)}']")).ToContainTextAsync(Path.GetFileName(path));
        await Assertions.Expect(page.Locator("tr[data-outcome=duplicate]").GetByTestId("duplicate-of"))
            .ToHaveAttributeAsync("href", "/documents/" + UnseenDocuments.Sha1(duplicate));
        // The known document was labelled already: it keeps its class, and the row says so.
        var knownLabel = app.Known[1].Label;
        await Assertions.Expect(page.Locator("tr[data-outcome=duplicate]").GetByTestId("duplicate-label")).ToContainTextAsync(knownLabel == 11
            ? "it already has the class 'invoice'" : $"it keeps its class '{DocumentClasses.NameOf(knownLabel)}' (this file's 'invoice' was not applied");
        await Assertions.Expect(page.Locator("tr[data-outcome=rejected]")).ToContainTextAsync("not-a-scan.tif");
        await Assertions.Expect(page.Locator("tr[data-outcome=rejected]").GetByTestId("reason")).ToContainTextAsync("unsupported-format");
        await Assertions.Expect(page.GetByTestId("batch-progress")).ToContainTextAsync("of 10 through the pipeline");
        await UiApp.ScreenshotAsync(page, "upload-batch");
        var ids = fresh.Select(UnseenDocuments.Sha1).ToArray();
        Assert.Equal(10, await ScalarAsync<long>(
            "SELECT count(*) FROM ingestion.labels WHERE document_id = ANY(@ids) AND source = 'human' AND label = 11 AND created_by = @user", new { ids, user }));
        await Accessibility.AssertNoSeriousViolationsAsync(page);
    }

    [Fact]
    public async Task AFolderIsUploadedWithItsSubFoldersAndItsUnlabelledDocumentsWaitInTheReviewQueue()
    {
        var (context, page, _) = await app.LogInAsync(Roles.User);
        await using var _ = context;
        // Copies of dataset pages in a temporary folder (never in the repository): two at the top, one in a sub-folder.
        var files = UnseenDocuments.Take(app.Known.Select(k => k.Path), 10, 3);
        using var scratch = new ScratchFolder("dsdc-ui-folder-");
        var folder = scratch.Path;
        Directory.CreateDirectory(Path.Combine(folder, "more"));
        string[] copies = [Path.Combine(folder, Path.GetFileName(files[0])), Path.Combine(folder, Path.GetFileName(files[1])),
            Path.Combine(folder, "more", Path.GetFileName(files[2]))];
        for (var i = 0; i < 3; i++) File.Copy(files[i], copies[i]);

        await page.GotoAsync("/upload");
        await page.GetByLabel("A whole folder").SetInputFilesAsync(folder);
        await Assertions.Expect(page.GetByTestId("chosen")).ToContainTextAsync("3 files selected");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();
        await UiApp.WaitForAddressAsync(page, BatchUrl(), "the upload");

        await Assertions.Expect(page.Locator("tr[data-outcome=accepted]")).ToHaveCountAsync(3);
        await page.GotoAsync("/review");
        foreach (var path in files)
            await Assertions.Expect(page.Locator($"li[data-document-id='{UnseenDocuments.Sha1(path)}']")).ToContainTextAsync("No label.");

        // "Label as ... Save" on a document never predicted writes only while it still has no label: a colleague's label set
        // while the page was open stays; the next one is labelled.
        var (taken, free) = (UnseenDocuments.Sha1(files[0]), UnseenDocuments.Sha1(files[1]));
        await using (var conn = new NpgsqlConnection(app.Database.ConnectionString))
            await conn.ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@id, 9, 'human', 'colleague')",
                new { id = taken });
        var item = page.Locator($"li[data-document-id='{taken}']");
        await item.GetByTestId("correct-select").SelectOptionAsync("4");
        await item.GetByTestId("correct").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("was labelled \"news article\" (by colleague, ");
        Assert.Equal(9, await ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id = taken }));
        item = page.Locator($"li[data-document-id='{free}']");
        await item.GetByTestId("correct-select").SelectOptionAsync("4");
        await item.GetByTestId("correct").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Labelled {free[..8]} as advertisement");
        Assert.Equal(4, await ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id = free }));
    }

    [Fact]
    public async Task TheReviewQueueConfirmsAndCorrectsWithTheKeyboard()
    {
        // Three stored documents whose latest predictions need review, the least certain of all (near-uniform probabilities).
        var docs = app.Known.Skip(20).Take(3).Select(k => UnseenDocuments.Sha1(k.Path)).ToArray();
        int[] predicted = [2, 9, 14];
        int[] second = [4, 12, 0];
        await using (var conn = new NpgsqlConnection(app.Database.ConnectionString))
            for (var i = 0; i < 3; i++)
            {
                var p = Enumerable.Repeat(0.05f, 16).ToArray();
                p[predicted[i]] = 0.065f + 0.001f * i;
                p[second[i]] = 0.06f;
                await conn.ExecuteAsync("""
                    INSERT INTO inference.predictions (document_id, user_name, model_run_id, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
                    VALUES (@id, 'test', NULL, 'test', @label, 0.01, @top, @p, 1, true)
                    """, new { id = docs[i], label = (short)predicted[i], top = (double)p[predicted[i]], p });
            }
        var (context, page, user) = await app.LogInAsync(Roles.User);
        await using var _ = context;

        await page.GotoAsync("/review");
        var items = page.GetByTestId("review-item");
        await Assertions.Expect(items.First).ToHaveAttributeAsync("data-document-id", docs[0]);
        await Assertions.Expect(items.Nth(1)).ToHaveAttributeAsync("data-document-id", docs[1]);
        await Assertions.Expect(items.First).ToBeFocusedAsync();
        await UiApp.ScreenshotAsync(page, "review");
        await Accessibility.AssertNoSeriousViolationsAsync(page);

        // j moves down, k back up; focus follows.
        await page.Keyboard.PressAsync("j");
        await Assertions.Expect(items.Nth(1)).ToBeFocusedAsync();
        await Assertions.Expect(items.Nth(1)).ToHaveAttributeAsync("aria-current", "true");
        await page.Keyboard.PressAsync("k");
        await Assertions.Expect(items.First).ToBeFocusedAsync();

        // A colleague corrects the first meanwhile: Enter (confirm) then writes nothing over it, and says so; the next
        // document becomes current and focused.
        await using (var conn = new NpgsqlConnection(app.Database.ConnectionString))
            await conn.ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@id, 7, 'human', 'colleague')",
                new { id = docs[0] });
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("was labelled by someone else");
        await Assertions.Expect(page.Locator($"li[data-document-id='{docs[1]}']")).ToBeFocusedAsync();
        await Assertions.Expect(page.Locator($"li[data-document-id='{docs[0]}']")).ToHaveCountAsync(0);

        // 2 corrects the second to its second most probable class.
        await page.Keyboard.PressAsync("2");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"as {DocumentClasses.NameOf(second[1])}");
        await Assertions.Expect(page.Locator($"li[data-document-id='{docs[2]}']")).ToBeFocusedAsync();

        // x selects the third for bulk confirmation.
        await page.Keyboard.PressAsync("x");
        await Assertions.Expect(page.Locator($"#sel-{docs[2]}")).ToBeCheckedAsync();
        await page.GetByTestId("bulk-confirm").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Confirmed 1 prediction");

        Assert.Equal(7, await ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id = docs[0] }));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id AND created_by = @user", new { id = docs[0], user }));
        int[] expected = [predicted[0], second[1], predicted[2]];
        for (var i = 1; i < 3; i++)
            Assert.Equal(expected[i], await ScalarAsync<short>(
                "SELECT label FROM ingestion.labels WHERE document_id = @id AND source = 'human' AND created_by = @user ORDER BY id DESC LIMIT 1", new { id = docs[i], user }));
        await Assertions.Expect(page.Locator($"li[data-document-id='{docs[2]}']")).ToHaveCountAsync(0);

        // "Correct to ... Save" is guarded the same way: a newer prediction puts the first document back in the queue, a
        // colleague labels it again while the page is open, and the correction writes nothing over that label.
        await using (var conn = new NpgsqlConnection(app.Database.ConnectionString))
            await conn.ExecuteAsync("""
                INSERT INTO inference.predictions (document_id, user_name, model_run_id, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
                VALUES (@id, 'test', NULL, 'test', 2, 0.01, 0.07, @p, 1, true)
                """, new { id = docs[0], p = Enumerable.Repeat(0.062f, 16).ToArray() });
        await page.GotoAsync("/review");
        var again = page.Locator($"li[data-document-id='{docs[0]}']");
        await Assertions.Expect(again).ToHaveCountAsync(1);
        await using (var conn = new NpgsqlConnection(app.Database.ConnectionString))
            await conn.ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@id, 5, 'human', 'colleague')",
                new { id = docs[0] });
        await again.GetByTestId("correct-select").SelectOptionAsync("3");
        await again.GetByTestId("correct").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("was labelled by someone else");
        Assert.Equal(5, await ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id = docs[0] }));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id AND created_by = @user", new { id = docs[0], user }));
    }

    /// <summary>
    /// A document labelled at upload or by a dataset is never predicted, so neither a prediction's page nor the review
    /// queue reaches it: its own page sets or corrects its label, guarded as a prediction's page is (a colleague's newer
    /// label is shown before it is replaced; the same form sent twice changes nothing the second time).
    /// </summary>
    [Fact]
    public async Task ADocumentsOwnPageCorrectsTheLabelItCameWith()
    {
        var (path, label) = app.Known[10];
        var id = UnseenDocuments.Sha1(path);
        var correction = (label + 1) % DocumentClasses.Count;
        var colleagues = (label + 2) % DocumentClasses.Count;
        var mine = (label + 3) % DocumentClasses.Count;
        string Value(int c) => c.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (context, page, user) = await app.LogInAsync(Roles.User);
        await using var _ = context;

        await page.GotoAsync($"/documents/{id}");
        Assert.Equal(Value(label), await page.GetByTestId("label-select").InputValueAsync());
        await page.GetByTestId("label-select").SelectOptionAsync(Value(correction));
        await page.GetByTestId("save-label").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Saved the label \"{DocumentClasses.NameOf(correction)}\"");
        await Assertions.Expect(page.GetByTestId("labels").Locator("tr", new() { HasText = "human" }).First).ToContainTextAsync(user);
        Assert.Equal(correction, await ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id }));

        // A colleague labels it while the page is open: nothing is written over that label, and the page says whose it is.
        await using (var conn = new NpgsqlConnection(app.Database.ConnectionString))
            await conn.ExecuteAsync("INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@id, @colleagues, 'human', 'colleague')",
                new { id, colleagues = (short)colleagues });
        await page.GetByTestId("label-select").SelectOptionAsync(Value(mine));
        await page.GetByTestId("save-label").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync(
            $"Nothing saved: colleague labelled the document \"{DocumentClasses.NameOf(colleagues)}\"");
        Assert.Equal(colleagues, await ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id }));

        // Saved again with the colleague's label seen: it replaces it. The same form sent a second time changes nothing.
        Assert.Equal(Value(mine), await page.GetByTestId("label-select").InputValueAsync());
        var sent = await page.EvaluateAsync<Dictionary<string, string>>(
            "() => Object.fromEntries(new FormData(document.querySelector('[data-testid=save-label]').form))");
        await page.GetByTestId("save-label").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Saved the label \"{DocumentClasses.NameOf(mine)}\"");
        var again = context.APIRequest.CreateFormData();
        foreach (var (field, value) in sent) again.Set(field, value);
        Assert.Equal(302, (await page.APIRequest.PostAsync(page.Url, new() { Form = again, MaxRedirects = 0 })).Status);
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync(
            $"Already labelled \"{DocumentClasses.NameOf(mine)}\" by {user}: nothing to change.");
        Assert.Equal(mine, await ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id }));
        Assert.Equal(2, await ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id AND created_by = @user", new { id, user }));

        // A post without a class, or for a document that is not stored, writes nothing.
        var empty = context.APIRequest.CreateFormData();
        foreach (var (field, value) in sent.Where(f => f.Key != "Label")) empty.Set(field, value);
        var refused = await page.APIRequest.PostAsync(page.Url, new() { Form = empty, MaxRedirects = 0 });
        Assert.Equal(200, refused.Status);
        Assert.Contains("Choose the document&#x27;s class label.", await refused.TextAsync());
        Assert.Equal(404, (await page.APIRequest.PostAsync($"/documents/{new string('0', 40)}", new() { Form = again, MaxRedirects = 0 })).Status);
        await Accessibility.AssertNoSeriousViolationsAsync(page);
    }

    /// <summary>A model-admin deletes a document from its page, once the box is ticked; a user's page has no such form.</summary>
    [Fact]
    public async Task AModelAdminDeletesADocumentFromItsPageOnceTheBoxIsTicked()
    {
        var bytes = Fixtures.PngBlankPage(659, 499);
        var id = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(bytes));
        var (userContext, userPage, _) = await app.LogInAsync(Roles.User);
        await using (userContext)
        {
            await userPage.GotoAsync("/classify");
            await userPage.GetByLabel("Document").SetInputFilesAsync(new FilePayload { Name = "to-delete.png", MimeType = "image/png", Buffer = bytes });
            await userPage.GetByRole(AriaRole.Button, new() { Name = "Classify" }).ClickAsync();
            await UiApp.WaitForAddressAsync(userPage, new Regex(@"/predictions/\d+$"), "classifying");
            await userPage.GotoAsync($"/documents/{id}");
            await Assertions.Expect(userPage.GetByTestId("labels")).ToBeVisibleAsync();
            Assert.Equal(0, await userPage.GetByTestId("delete-document").CountAsync());
        }

        var (context, page, admin) = await app.LogInAsync(Roles.ModelAdmin);
        await using var _ = context;
        await page.GotoAsync($"/documents/{id}");
        await page.GetByTestId("delete-document").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Nothing deleted: tick the box to confirm");
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM ingestion.documents WHERE id = @id", new { id }));
        await Accessibility.AssertNoSeriousViolationsAsync(page);
        // The page the refusal leads back to labels as before.
        await page.GetByTestId("label-select").SelectOptionAsync("5");
        await page.GetByTestId("save-label").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Saved the label \"{DocumentClasses.NameOf(5)}\"");
        Assert.Equal(5, await ScalarAsync<short>("SELECT label FROM ingestion.current_labels WHERE document_id = @id", new { id }));

        await page.GetByTestId("confirm-delete").CheckAsync();
        await page.GetByTestId("delete-document").ClickAsync();
        await UiApp.WaitForAddressAsync(page, new Regex(@"/documents$"), "deleting");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Document {id[..12]} was deleted");
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM ingestion.original_documents WHERE id = @id", new { id }));
        Assert.Equal(admin, await ScalarAsync<string>("SELECT deleted_by FROM ingestion.deletions WHERE document_id = @id", new { id }));
        Assert.Equal(404, (await page.GotoAsync($"/documents/{id}"))!.Status);
    }

    /// <summary>An address that names nothing (a run, a document or a prediction that does not exist, a page that is not
    /// one) shows a page that says so, with links back, still 404; a client that asks for JSON gets the ProblemDetails.</summary>
    [Fact]
    public async Task AnAddressThatNamesNothingShowsAPageNotJson()
    {
        var (context, page, _) = await app.LogInAsync(Roles.User);
        await using var _ = context;

        foreach (var address in new[] { "/runs/999999", $"/documents/{new string('0', 40)}", "/predictions/999999", "/no-such-page" })
        {
            var response = await page.GotoAsync(address);
            Assert.Equal(404, response!.Status);
            Assert.StartsWith("text/html", response.Headers["content-type"]);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Not found");
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Home" })).ToHaveAttributeAsync("href", "/");
        }
        await Accessibility.AssertNoSeriousViolationsAsync(page);

        var json = await page.APIRequest.GetAsync("/runs/999999", new() { Headers = new Dictionary<string, string> { ["Accept"] = "application/json" } });
        Assert.Equal(404, json.Status);
        Assert.StartsWith("application/problem+json", json.Headers["content-type"]);
    }

    /// <summary>A reviewer's decision sent twice (a double click, Enter pressed again) is saved once and the second answer
    /// says so, instead of reporting the reviewer's own label as someone else's.</summary>
    [Fact]
    public async Task AReviewDecisionSentTwiceIsReportedAsSavedNotAsSomeoneElses()
    {
        var id = UnseenDocuments.Sha1(app.Known[11].Path);
        // As uncertain as a prediction gets, so that it is on the queue's first page.
        var p = Enumerable.Repeat(0.06249f, 16).ToArray();
        p[6] = 0.0627f;
        await using (var conn = new NpgsqlConnection(app.Database.ConnectionString))
            await conn.ExecuteAsync("""
                INSERT INTO inference.predictions (document_id, user_name, model_run_id, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
                VALUES (@id, 'test', NULL, 'test', 6, 0.0001, 0.0627, @p, 1, true)
                """, new { id, p });
        var (context, page, user) = await app.LogInAsync(Roles.User);
        await using var _ = context;

        await page.GotoAsync($"/review?at={id}");
        var item = page.Locator($"li[data-document-id='{id}']");
        await Assertions.Expect(item).ToHaveCountAsync(1);
        var decide = await item.Locator("form[action*='handler=Decide']").First.EvaluateAsync<Dictionary<string, string>>(
            "f => Object.fromEntries(new FormData(f, f.querySelector('button[name=Label]')))");
        var form = context.APIRequest.CreateFormData();
        foreach (var (field, value) in decide) form.Set(field, value);
        var action = await item.Locator("form[action*='handler=Decide']").First.GetAttributeAsync("action");

        Assert.Equal(302, (await page.APIRequest.PostAsync(action!, new() { Form = form, MaxRedirects = 0 })).Status);
        Assert.Equal(302, (await page.APIRequest.PostAsync(action!, new() { Form = form, MaxRedirects = 0 })).Status);
        await page.GotoAsync("/review");

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"is labelled {DocumentClasses.NameOf(6)} by you already: nothing to change.");
        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id AND created_by = @user", new { id, user }));
    }

    [Fact]
    public async Task TheLabelsOverviewCountsCurrentLabelsAndChangesSinceTheChampion()
    {
        var (context, page, _) = await app.LogInAsync(Roles.User);
        await using var _ = context;

        await page.GotoAsync("/labels");
        var counts = page.GetByTestId("label-counts");
        await Assertions.Expect(counts.Locator("tbody tr")).ToHaveCountAsync(16);
        var labelled = await ScalarAsync<long>("SELECT count(DISTINCT l.document_id) FROM ingestion.labels l JOIN ingestion.original_documents d ON d.id = l.document_id AND d.ingest_state = 'stored'");
        await Assertions.Expect(counts.Locator("tfoot td").Nth(2)).ToHaveTextAsync(labelled.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(page.GetByTestId("labels-since")).ToContainTextAsync("since the job of run");
        await Assertions.Expect(page.GetByTestId("next-training")).ToContainTextAsync("Training:Enabled is false");
        await Assertions.Expect(page.GetByTestId("unpredictable")).ToContainTextAsync("None");
        // The champion's recall per class, from its stored metrics, and the classes it recognises least often.
        var ct = TestContext.Current.CancellationToken;
        var championId = await app.Services.GetRequiredService<ModelRegistry>().ChampionRunIdAsync(ct);
        Assert.NotNull(championId);
        var scores = await RunDisplay.ScoresAsync(app.Services.GetRequiredService<TrainingStore>(), championId.Value, ct);
        Assert.NotNull(scores);
        foreach (var c in scores.PerClass.Where(c => c.Support > 0))
            await Assertions.Expect(counts.Locator($"tr[data-class='{c.ClassName}'] [data-testid=recall]")).ToHaveTextAsync(c.Recall.ToString("P0"));
        var weakest = scores.PerClass.Where(c => c.Support > 0 && c.Recall < 1).MinBy(c => (c.Recall, c.Label));
        if (weakest is not null)
            await Assertions.Expect(page.GetByTestId("least-recognised")).ToContainTextAsync($"{weakest.ClassName} (recall {weakest.Recall:P0})");
        await UiApp.ScreenshotAsync(page, "labels");
        await Accessibility.AssertNoSeriousViolationsAsync(page);
    }

    [Fact]
    public async Task TwoRunsAreComparedSideBySide()
    {
        var (context, page, _) = await app.LogInAsync(Roles.User);
        await using var _ = context;
        var ids = await ScalarAsync<long[]>("SELECT array_agg(id ORDER BY id) FROM training.runs WHERE status = 'succeeded'");

        await page.GotoAsync("/runs");
        await Assertions.Expect(page.GetByTestId("run-duration").First).Not.ToHaveTextAsync("–");
        await page.GetByTestId($"compare-{ids[0]}").CheckAsync();
        await page.GetByTestId($"compare-{ids[1]}").CheckAsync();
        await page.GetByTestId("compare").ClickAsync();
        await UiApp.WaitForAddressAsync(page, CompareUrl(), "the comparison");

        await Assertions.Expect(page.GetByTestId("compare-metrics")).ToContainTextAsync("Accuracy");
        await Assertions.Expect(page.GetByTestId("compare-recall").Locator("tbody tr")).ToHaveCountAsync(16);
        await Assertions.Expect(page.GetByTestId("confusion")).ToHaveCountAsync(2);
        await Assertions.Expect(page.GetByTestId("coverage-chart").Locator("polyline")).ToHaveCountAsync(2);
        await UiApp.ScreenshotAsync(page, "runs-compare");
        await Accessibility.AssertNoSeriousViolationsAsync(page);

        await page.GotoAsync($"/runs/{ids[0]}");
        await Assertions.Expect(page.GetByTestId("parameters")).ToContainTextAsync("approach");
        await Assertions.Expect(page.GetByTestId("coverage-chart")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("run-duration")).ToContainTextAsync(" s");
    }

    [Fact]
    public async Task EveryPageHasNoSeriousOrCriticalAccessibilityViolation()
    {
        var anonymous = await app.Browser.NewContextAsync(new() { BaseURL = app.BaseUrl });
        await using (anonymous)
        {
            var login = await anonymous.NewPageAsync();
            await login.GotoAsync("/login");
            await Accessibility.AssertNoSeriousViolationsAsync(login);
        }

        var (context, page, _) = await app.LogInAsync(Roles.Admin);
        await using var _ = context;
        var document = UnseenDocuments.Sha1(app.Known[0].Path);
        var runs = await ScalarAsync<long[]>("SELECT array_agg(id ORDER BY id) FROM training.runs WHERE status = 'succeeded'");
        var prediction = await ScalarAsync<long?>("SELECT max(id) FROM inference.predictions");
        var batch = await ScalarAsync<string?>("SELECT substring(source_folder from 8 for 22) FROM ingestion.original_documents WHERE source_folder LIKE 'upload-%' LIMIT 1");
        List<string> paths = ["/classify", "/upload", "/review", "/labels", "/documents", $"/documents/{document}", "/runs", $"/runs/{runs[0]}",
            $"/runs/compare?a={runs[0]}&b={runs[1]}", "/models", "/pipelines", "/denied"];
        if (prediction is { } p) paths.Add($"/predictions/{p}");
        if (batch is { } b) paths.Add($"/upload/{b}");
        foreach (var path in paths)
        {
            await page.GotoAsync(path);
            await Accessibility.AssertNoSeriousViolationsAsync(page);
        }
        await page.GotoAsync("/pipelines");
        await Assertions.Expect(page.GetByTestId("backlog")).ToContainTextAsync("Embedding");
    }

    [GeneratedRegex(@"/upload/\d{8}-\d{6}-[0-9a-f]{6}$")]
    private static partial Regex BatchUrl();

    [GeneratedRegex(@"/runs/compare\?")]
    private static partial Regex CompareUrl();
}

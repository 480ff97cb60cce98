using System.Text.RegularExpressions;
using Dsdc.Auth;
using Dsdc.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Dsdc.Tests.Ui;

/// <summary>The web UI in Debian's Chromium: log in, classify, correct, promote, and role gates. Screenshots go to <see cref="UiApp.ScreenshotDir"/>.</summary>
[Collection(UiCollection.Name)]
public sealed partial class BrowserTests(UiApp app)
{
    [Fact]
    public async Task AUserClassifiesAnUploadSeesItsChartAndCorrectsItsLabel()
    {
        var (context, page, user) = await app.LogInAsync(Roles.User);
        await using var _ = context;
        var document = app.Known[0];

        await page.GotoAsync("/classify");
        await Assertions.Expect(page.GetByTestId("serving-status")).ToContainTextAsync("Trained model run");
        await page.GetByLabel("Document").SetInputFilesAsync(document.Path);
        await UiApp.ScreenshotAsync(page, "classify");
        await page.GetByRole(AriaRole.Button, new() { Name = "Classify" }).ClickAsync();
        await UiApp.WaitForAddressAsync(page, PredictionUrl(), "classifying");

        var predicted = (await page.GetByTestId("predicted-class").InnerTextAsync()).Trim();
        Assert.Contains(predicted, DocumentClasses.Names);
        Assert.Equal(16, await page.GetByTestId("probability-chart").Locator("rect.bar").CountAsync());
        Assert.Matches("conf-(high|mid|low)", await page.GetByTestId("predicted-class").GetAttributeAsync("class") ?? "");
        Assert.True(await page.GetByTestId("page-image").EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"), "the page image did not load");
        Assert.True(await page.GetByTestId("similar").Locator("img").CountAsync() > 0, "no similar documents shown");
        await UiApp.ScreenshotAsync(page, "prediction");

        // The review flag: shown exactly when the recorded prediction needs review.
        var predictionId = long.Parse(page.Url[(page.Url.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
        {
            var needsReview = await Dapper.SqlMapper.ExecuteScalarAsync<bool>(conn, "SELECT needs_review FROM inference.predictions WHERE id = @predictionId", new { predictionId });
            Assert.Equal(needsReview ? 1 : 0, await page.GetByTestId("needs-review").CountAsync());
            await Dapper.SqlMapper.ExecuteAsync(conn, "UPDATE inference.predictions SET needs_review = true WHERE id = @predictionId", new { predictionId });
        }
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("needs-review")).ToContainTextAsync("Needs review");
        await UiApp.ScreenshotAsync(page, "prediction-needs-review");

        // A colleague labels the document while the page is open: the save is refused, the colleague's label shown; saving
        // again, with that label seen, replaces it.
        var correction = DocumentClasses.Names.First(n => n != predicted);
        var colleagues = DocumentClasses.Names.First(n => n != predicted && n != correction);
        await using (var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString))
            await Dapper.SqlMapper.ExecuteAsync(conn, """
                INSERT INTO ingestion.labels (document_id, label, source, created_by)
                SELECT document_id, @label, 'human', 'colleague' FROM inference.predictions WHERE id = @predictionId
                """, new { label = (short)DocumentClasses.Names.ToList().IndexOf(colleagues), predictionId });
        await page.GetByTestId("label-select").SelectOptionAsync(new SelectOptionValue { Label = correction });
        await page.GetByTestId("save-label").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Nothing saved: colleague labelled the document \"{colleagues}\"");
        await Assertions.Expect(page.GetByTestId("current-label")).ToContainTextAsync(colleagues);
        // The class this person chose is still the one selected: saving again replaces the colleague's label with it.
        Assert.Equal(DocumentClasses.Names.ToList().IndexOf(correction).ToString(System.Globalization.CultureInfo.InvariantCulture),
            await page.GetByTestId("label-select").InputValueAsync());
        var sent = await page.EvaluateAsync<Dictionary<string, string>>(
            "() => Object.fromEntries(new FormData(document.querySelector('[data-testid=save-label]').form))");
        await page.GetByTestId("save-label").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Saved the label \"{correction}\"");
        await Assertions.Expect(page.GetByTestId("current-label")).ToContainTextAsync(correction);
        // The same form sent again (a second click): the label it would write is there already, so nothing to change.
        var again = context.APIRequest.CreateFormData();
        foreach (var (field, value) in sent) again.Set(field, value);
        var repeated = await page.APIRequest.PostAsync(page.Url, new() { Form = again, MaxRedirects = 0 });
        Assert.Equal(302, repeated.Status);
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Already labelled \"{correction}\" by {user}: nothing to change.");

        await page.GetByTestId("document-link").ClickAsync();
        var labels = page.GetByTestId("labels");
        var human = labels.Locator("tr", new() { HasText = "human" }).First;
        await Assertions.Expect(human).ToContainTextAsync(correction);
        await Assertions.Expect(human).ToContainTextAsync(user);
        await Assertions.Expect(page.GetByTestId("predictions")).ToContainTextAsync(predicted);
        // What the champion learned of it: the label it had when the model was fitted, whatever the correction says.
        await Assertions.Expect(page.GetByTestId("trained-label")).ToContainTextAsync($"labelled {DocumentClasses.NameOf(document.Label)}.");
        await UiApp.ScreenshotAsync(page, "document");

        await page.GotoAsync("/documents?q=" + Uri.EscapeDataString(correction));
        await Assertions.Expect(page.GetByTestId("documents")).ToContainTextAsync(Path.GetFileName(document.Path));
        await UiApp.ScreenshotAsync(page, "documents");
    }

    [Fact]
    public async Task AModelAdminPromotesARun()
    {
        var (context, page, _) = await app.LogInAsync(Roles.ModelAdmin);
        await using var __ = context;
        var runId = await app.NonChampionRunAsync();

        await page.GotoAsync("/runs");
        await Assertions.Expect(page.GetByTestId("champion-badge")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("run-accuracy").First).ToContainTextAsync("±");
        await UiApp.ScreenshotAsync(page, "runs");
        await page.GotoAsync($"/runs/{runId}");
        await Assertions.Expect(page.GetByTestId("confusion")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("estimate")).ToContainTextAsync("cross-validation repeated");
        // The documents the run was fitted on, downloaded from its page.
        var documents = await page.APIRequest.GetAsync((await page.GetByTestId("run-documents").GetAttributeAsync("href"))!);
        Assert.Equal(200, documents.Status);
        var lines = (await documents.TextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Dsdc.Training.DatasetCsv.Header, lines[0]);
        Assert.Equal(app.Known.Count, lines.Length - 1);
        await UiApp.ScreenshotAsync(page, "run");
        await page.GetByLabel("Reason").FillAsync("browser test");
        await page.GetByTestId("promote").ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"run {runId} is now the champion");
        Assert.Equal(runId, await app.ChampionAsync());
        await Assertions.Expect(page.GetByTestId("champion")).ToHaveTextAsync($"run {runId}");
        await UiApp.ScreenshotAsync(page, "models");
    }

    [Fact]
    public async Task TheRunsPageShowsOlderRunsPageByPageAndAlwaysTheChampion()
    {
        var (context, page, _) = await app.LogInAsync(Roles.User);
        await using var __ = context;
        var runs = await app.Services.GetRequiredService<Dsdc.Training.ModelRegistry>().RunsAsync(1000, TestContext.Current.CancellationToken);
        Assert.True(runs.Count >= 2, $"{runs.Count} run(s)");
        var champion = await app.ChampionAsync();
        Assert.NotNull(champion);
        // One run per page: the champion comes first on every page it is not on.
        string[] Expected(long id) => champion == id ? [id.ToString()] : [champion.ToString()!, id.ToString()];
        var rows = page.GetByTestId("runs").Locator("tbody tr");

        await page.GotoAsync("/runs?take=1");
        Assert.Equal(Expected(runs[0].Id), await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.runId)"));
        await Assertions.Expect(page.GetByTestId("runs-page")).ToContainTextAsync($"The newest 1 of {runs.Count} runs");
        await Assertions.Expect(page.GetByTestId("champion-badge")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("newest-runs")).ToHaveCountAsync(0);

        await page.GetByTestId("older-runs").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/runs\\?before={runs[0].Id}&take=1$"));
        Assert.Equal(Expected(runs[1].Id), await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.runId)"));
        await Assertions.Expect(page.GetByTestId("champion-badge")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("newest-runs")).ToBeVisibleAsync();
        // Back to the newest at the page size chosen.
        await Assertions.Expect(page.GetByTestId("newest-runs")).ToHaveAttributeAsync("href", "/runs?take=1");

        // The last page has no link to older runs.
        await page.GotoAsync($"/runs?before={runs[^1].Id + 1}&take=1");
        Assert.Equal(Expected(runs[^1].Id), await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.runId)"));
        await Assertions.Expect(page.GetByTestId("older-runs")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task APlainUserCannotReachAdminPagesOrHangfire()
    {
        var (context, page, _) = await app.LogInAsync(Roles.User);
        await using var _ = context;

        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Pipelines" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Hangfire" })).ToHaveCountAsync(0);
        foreach (var path in new[] { "/pipelines", "/models", "/hangfire" })
        {
            var response = await page.GotoAsync(path);
            Assert.Matches(DeniedUrl(), page.Url);
            Assert.Equal(403, response!.Status);
            await Assertions.Expect(page.GetByTestId("denied")).ToBeVisibleAsync();
        }
        // A promotion posted by hand is refused too (the form is not even shown to this role).
        var post = await context.APIRequest.PostAsync("/models?handler=Promote", new() { MaxRedirects = 0 });
        Assert.NotEqual(200, post.Status);
        var runId = await app.NonChampionRunAsync();
        await page.GotoAsync($"/runs/{runId}");
        await Assertions.Expect(page.GetByTestId("promote")).ToHaveCountAsync(0);
        // The list of documents a run was fitted on is model-admin's, as on the API: no link, and refused by hand.
        await Assertions.Expect(page.GetByTestId("run-documents")).ToHaveCountAsync(0);
        var csv = await context.APIRequest.GetAsync($"/runs/{runId}?handler=Documents", new() { MaxRedirects = 0 });
        Assert.NotEqual(200, csv.Status);
        Assert.DoesNotContain(Dsdc.Training.DatasetCsv.Header, await csv.TextAsync());
    }

    [Fact]
    public async Task AnAdminSeesPipelinesAndTheHangfireLinkAndPagesCarrySecurityHeaders()
    {
        var (context, page, _) = await app.LogInAsync(Roles.Admin);
        await using var _ = context;

        var response = await page.GotoAsync("/pipelines");
        await Assertions.Expect(page.GetByTestId("backlog")).ToContainTextAsync("OCR");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Open the Hangfire dashboard" })).ToBeVisibleAsync();
        await UiApp.ScreenshotAsync(page, "pipelines");
        var headers = await response!.AllHeadersAsync();
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"]);
        Assert.Equal("DENY", headers["x-frame-options"]);
        Assert.True(headers.ContainsKey("referrer-policy"));

        var hangfire = await page.GotoAsync("/hangfire");
        Assert.Equal(200, hangfire!.Status);
    }

    /// <summary>"Start training now" pressed twice (no job server here, so the first job waits on its queue) enqueues one
    /// job: the second press says which job will train instead of queueing a second full training on the same data.</summary>
    [Fact]
    public async Task StartTrainingPressedTwiceEnqueuesOneJob()
    {
        var (context, page, _) = await app.LogInAsync(Roles.Admin);
        await using var _ = context;
        var storage = app.Services.GetRequiredService<Hangfire.JobStorage>();
        var monitor = storage.GetMonitoringApi();
        Assert.Null(Dsdc.Web.Pages.Pipelines.IndexModel.RequestedTrainingPending(storage));

        await page.GotoAsync("/pipelines");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start training now" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Training enqueued");
        var pending = Dsdc.Web.Pages.Pipelines.IndexModel.RequestedTrainingPending(storage);
        try
        {
            Assert.NotNull(pending);
            await page.GetByRole(AriaRole.Button, new() { Name = "Start training now" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync(
                $"A training job someone asked for already waits (job {pending.Value.Id}): nothing added.");
            Assert.Single(monitor.EnqueuedJobs(Dsdc.Shared.Jobs.JobQueues.Training, 0, 500),
                j => j.Value.Job?.Method.Name == nameof(Dsdc.Training.TrainingJob.RunRequestedAsync));
        }
        finally
        {
            if (pending is { } job) Hangfire.BackgroundJobClientExtensions.Delete(app.Services.GetRequiredService<Hangfire.IBackgroundJobClient>(), job.Id);
        }
        Assert.Null(Dsdc.Web.Pages.Pipelines.IndexModel.RequestedTrainingPending(storage));
    }

    [Fact]
    public async Task AnonymousVisitorsAreSentToTheLogInPageAndWrongPasswordsAreRefused()
    {
        var context = await app.Browser.NewContextAsync(new() { BaseURL = app.BaseUrl });
        await using var _ = context;
        context.SetDefaultTimeout(90_000);
        context.SetDefaultNavigationTimeout(90_000);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/documents");
        Assert.Contains("/login", page.Url);
        await page.GetByLabel("User name").FillAsync("nobody");
        await page.GetByLabel("Password").FillAsync("wrong-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Wrong user name or password");
        await UiApp.ScreenshotAsync(page, "login");
    }

    [GeneratedRegex(@"/predictions/\d+$")]
    private static partial Regex PredictionUrl();

    [GeneratedRegex(@"/denied")]
    private static partial Regex DeniedUrl();
}

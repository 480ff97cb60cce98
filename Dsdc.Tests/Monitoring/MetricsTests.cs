using System.Globalization;

namespace Dsdc.Tests.Monitoring;

[Collection(ObservedApp.Collection)]
public sealed class MetricsTests(ObservedApp app)
{
    public static TheoryData<string> Families() =>
    [
        "http_requests_received_total", "http_request_duration_seconds",           // HTTP by route and status
        "dsdc_pipeline_documents_total", "dsdc_pipeline_stage_duration_seconds",   // stages: outcomes, durations
        "dsdc_pipeline_backlog",                                                     // backlog per stage
        "dsdc_ingestion_documents_total", "dsdc_ingestion_rejections_total",       // ingestion, rejections by reason
        "dsdc_ocr_documents_total", "dsdc_ocr_pages_total", "dsdc_ocr_duration_seconds",   // OCR throughput
        "dsdc_ocr_pages_given_up_total", "dsdc_ocr_engines_running_on",             // pages Tesseract's deadline could not stop
        "dsdc_embedding_documents_total", "dsdc_embedding_batch_duration_seconds",  // embedding throughput
        "dsdc_predictions_total", "dsdc_prediction_confidence", "dsdc_prediction_duration_seconds",
        "dsdc_predictions_needing_review_total",                                     // the share a person must review
        "dsdc_stored_document_predictions_total", "dsdc_stored_document_predictions_needing_review_total",   // the inbox's predictions
        "dsdc_labelled_documents", "dsdc_unlabelled_documents", "dsdc_review_queue_documents",   // labels and the review queue
        "dsdc_document_deletions_unfinished",                                        // deletions whose files are not removed yet
        "dsdc_documents_deleted_total",                                              // deletions, by person or retention
        "dsdc_model_champion_accuracy", "dsdc_model_champion_macro_f1", "dsdc_model_champion_age_seconds", "dsdc_model_champion_run_id",
        "dsdc_training_runs",
        "dsdc_jobs_enqueued", "dsdc_jobs", "dsdc_jobs_servers",                     // Hangfire
        "npgsql_db_client_connection_count", "npgsql_db_client_connection_max",      // the database pool (Npgsql's meter)
        "process_cpu_seconds_total", "process_working_set_bytes",
    ];

    [Theory]
    [MemberData(nameof(Families))]
    public void MetricsExposeTheFamilyAfterRealWork(string family) =>
        Assert.Contains(family, ObservedApp.FamiliesWithSamples(app.Scrape));

    [Fact]
    public void HttpMetricsCarryTheRouteTemplateAndTheStatusClassNotTheRawPath()
    {
        // Label order and the extra labels (controller, action, page once Razor Pages exist) are prometheus-net's business.
        Assert.Contains(app.Scrape.Split('\n'), line => line.StartsWith("http_requests_received_total{", StringComparison.Ordinal)
            && line.Contains("code=\"2xx\"", StringComparison.Ordinal) && line.Contains("method=\"GET\"", StringComparison.Ordinal)
            && line.Contains("endpoint=\"/openapi/{documentName}.json\"", StringComparison.Ordinal));
        Assert.DoesNotContain("endpoint=\"/openapi/v1.json\"", app.Scrape);
        Assert.Contains("endpoint=\"/health/live\"", app.Scrape);
    }

    /// <summary>The request metrics sit outside the authentication and the error handling: a 401 is counted as 4xx under
    /// its route; a made-up method is answered 501 and adds no series.</summary>
    [Fact]
    public void AnswersOfTheAuthenticationAreCountedAndMadeUpMethodsAddNoSeries()
    {
        Assert.Equal(401, app.UnauthorizedStatus);
        Assert.Contains(app.Scrape.Split('\n'), line => line.StartsWith("http_requests_received_total{", StringComparison.Ordinal)
            && line.Contains("code=\"4xx\"", StringComparison.Ordinal) && line.Contains("endpoint=\"/api/v1/me\"", StringComparison.Ordinal));
        Assert.Equal(501, app.UnknownMethodStatus);
        Assert.DoesNotContain("FOO1", app.Scrape);
    }

    /// <summary>Npgsql's operation latency is published with buckets below 10 ms, where nearly every query ends (the
    /// meter adapter's default buckets start at 10 ms: the dashboard's p95 read 9.5 ms whatever the latency).</summary>
    [Fact]
    public void DatabaseLatencyIsBucketedBelowTenMilliseconds()
    {
        var bounds = app.Scrape.Split('\n')
            .Where(l => l.StartsWith("npgsql_db_client_operation_duration_bucket{", StringComparison.Ordinal))
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, "le=\"([^\"]+)\"").Groups[1].Value)
            .Where(le => le != "+Inf").Select(le => double.Parse(le, CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(bounds);
        Assert.Contains(bounds, le => le <= 0.001);
    }

    [Fact]
    public void StageAndThroughputSeriesCountTheDocumentThatWentThrough()
    {
        foreach (var stage in new[] { "image", "ocr", "text", "embedding" })
            Assert.Contains($"dsdc_pipeline_documents_total{{stage=\"{stage}\",outcome=\"processed\"}}", app.Scrape);
        Assert.Contains("dsdc_ingestion_rejections_total{reason=\"empty-file\"}", app.Scrape);
        Assert.Matches("dsdc_ocr_pages_total\\{method=\"(ocr|pdf-text-layer)\"\\} [1-9]", app.Scrape);
    }

    [Fact]
    public void TheChampionAndTrainingRunsAreReadFromTheTrainingTables()
    {
        Assert.Contains($"dsdc_model_champion_accuracy {ObservedApp.ChampionAccuracy.ToString(CultureInfo.InvariantCulture)}", app.Scrape);
        Assert.Contains($"dsdc_model_champion_macro_f1 {ObservedApp.ChampionMacroF1.ToString(CultureInfo.InvariantCulture)}", app.Scrape);
        var age = double.Parse(Value("dsdc_model_champion_age_seconds"), CultureInfo.InvariantCulture);
        Assert.InRange(age, 2 * 3600 - 60, 2 * 3600 + 600);
        Assert.Contains("dsdc_training_runs{status=\"succeeded\"} 1", app.Scrape);
        Assert.Contains("dsdc_training_runs{status=\"failed\"} 1", app.Scrape);
        Assert.Contains("dsdc_training_runs{status=\"running\"} 0", app.Scrape);
    }

    /// <summary>The labels as the Labels page counts them (the one stored document carries its dataset label; the empty
    /// file was rejected), every class present, and the review queue's size as the queue counts it.</summary>
    [Fact]
    public void LabelledDocumentsAndTheReviewQueueAreReadFromTheDatabase()
    {
        var label = Dsdc.Shared.DocumentClasses.NameOf(Dsdc.Tests.Infrastructure.Fixtures.First(".png").Label);
        Assert.Contains($"\ndsdc_labelled_documents{{class=\"{label}\",source=\"dataset\"}} 1\n", app.Scrape);
        Assert.Contains($"\ndsdc_labelled_documents{{class=\"{label}\",source=\"human\"}} 0\n", app.Scrape);
        foreach (var name in Dsdc.Shared.DocumentClasses.Names)
            Assert.Contains($"dsdc_labelled_documents{{class=\"{name}\",source=\"dataset\"}} ", app.Scrape);
        Assert.Equal(Dsdc.Shared.DocumentClasses.Count * 2, app.Scrape.Split('\n').Count(l => l.StartsWith("dsdc_labelled_documents{", StringComparison.Ordinal)));
        Assert.Contains("\ndsdc_unlabelled_documents 0\n", app.Scrape);
        Assert.Contains("\ndsdc_document_deletions_unfinished 0\n", app.Scrape);
        Assert.Contains("\ndsdc_documents_deleted_total{by=\"retention\"} ", app.Scrape);
        Assert.Contains("\ndsdc_documents_deleted_total{by=\"person\"} ", app.Scrape);
        Assert.Contains("\ndsdc_review_queue_documents 0\n", app.Scrape);
        // The prediction recorded as needing review, under its class (the counters are the process's: other tests' predictions
        // may add to them), every class present; the champion measured on its test side has no spread.
        Assert.True(double.Parse(Value("dsdc_predictions_needing_review_total{class=\"invoice\"}"), CultureInfo.InvariantCulture) >= 1);
        foreach (var name in Dsdc.Shared.DocumentClasses.Names)
            Assert.Contains($"dsdc_predictions_needing_review_total{{class=\"{name}\"}} ", app.Scrape);
        Assert.DoesNotContain(app.Scrape.Split('\n'), l => l.StartsWith("dsdc_model_champion_accuracy_sd ", StringComparison.Ordinal));
    }

    /// <summary>A champion selected by cross-validation publishes the spread of its estimate; one measured on the test side
    /// again takes the series away.</summary>
    [Fact]
    public async Task TheSpreadOfACrossValidatedChampionsEstimateIsPublishedAndRemovedWithIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString);
        const string champion = "(SELECT run_id FROM training.promotions ORDER BY id DESC LIMIT 1)";
        using var client = app.CreateClient();
        try
        {
            await Dapper.SqlMapper.ExecuteAsync(conn, $"UPDATE training.runs SET evaluation = 'cross-validation', accuracy_sd = 0.053 WHERE id = {champion}");
            Assert.Contains("\ndsdc_model_champion_accuracy_sd 0.053\n", await client.GetStringAsync("/metrics", ct));
        }
        finally
        {
            await Dapper.SqlMapper.ExecuteAsync(conn, $"UPDATE training.runs SET evaluation = 'test-split', accuracy_sd = NULL WHERE id = {champion}");
        }
        Assert.DoesNotContain((await client.GetStringAsync("/metrics", ct)).Split('\n'),
            l => l.StartsWith("dsdc_model_champion_accuracy_sd ", StringComparison.Ordinal));
    }

    /// <summary>Label counts that cannot be read in time (here the labels table locked by another transaction) are abandoned
    /// after <c>LabelMetricsCollector.ReadTimeout</c>: the scrape still answers, with every other family and the label
    /// gauges' last values.</summary>
    [Fact]
    public async Task LabelCountsThatCannotBeReadInTimeLeaveTheScrapeAndTheirLastValues()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var conn = new Npgsql.NpgsqlConnection(app.Database.ConnectionString);
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await Dapper.SqlMapper.ExecuteAsync(conn, "LOCK TABLE ingestion.labels IN ACCESS EXCLUSIVE MODE", transaction: tx);
        using var client = app.CreateClient();

        var scrape = await client.GetStringAsync("/metrics", ct);

        await tx.RollbackAsync(ct);
        var families = ObservedApp.FamiliesWithSamples(scrape);
        Assert.Contains("dsdc_model_champion_accuracy", families);
        Assert.Contains("dsdc_jobs", families);
        Assert.Contains("\ndsdc_unlabelled_documents 0\n", scrape);
        Assert.Contains("dsdc_labelled_documents{", scrape);
    }

    [Fact]
    public void HangfireQueuesAndStatesAreReadFromItsStorage()
    {
        Assert.Contains("dsdc_jobs_enqueued{queue=\"ocr\"} 1", app.Scrape);
        Assert.Contains("dsdc_jobs_enqueued{queue=\"training\"} 0", app.Scrape);
        Assert.Contains("dsdc_jobs{state=\"failed\"}", app.Scrape);
        Assert.Contains("dsdc_jobs{state=\"processing\"}", app.Scrape);
    }

    [Fact]
    public void PredictionsAreCountedByClassNameWithTheirConfidence()
    {
        Assert.Matches("dsdc_predictions_total\\{class=\"invoice\"\\} [1-9]", app.Scrape);
        Assert.Contains("dsdc_predictions_total{class=\"memo\"}", app.Scrape);
        Assert.Matches("dsdc_prediction_confidence_bucket\\{le=\"1\"\\} [1-9]", app.Scrape);
    }

    [Fact]
    public void NoSeriesCarriesADocumentIdOrAPassword()
    {
        Assert.DoesNotMatch("[0-9a-f]{40}", app.Scrape);
        Assert.DoesNotContain("Password", app.Scrape, StringComparison.OrdinalIgnoreCase);
    }

    private string Value(string series) =>
        app.Scrape.Split('\n').First(l => l.StartsWith(series + " ", StringComparison.Ordinal)).Split(' ')[1];
}

using Dapper;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Dsdc.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Dsdc.Tests.Training;

/// <summary>
/// <c>Training:KeepRunFiles</c>: the model files of runs older than the newest few, never promoted, are removed after a job
/// that trains, and their records stay; the champion's and the runs a rollback returns to keep theirs whatever their age.
/// The training sets recorded for runs go with their files. On a database of its own, with runs recorded as a job
/// records them and folders of files in their place.
/// </summary>
public sealed class RunFileRetentionTests : IAsyncLifetime
{
    private readonly RetentionApp _app = new();

    public ValueTask InitializeAsync() => _app.InitializeAsync();

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Fact]
    public async Task OldRunsLoseTheirFilesButNotTheirRecordsAndPromotedRunsKeepTheirs()
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = _app.Services.GetRequiredService<ModelRegistry>(); // starts the app: the schema is migrated
        var models = _app.Services.GetRequiredService<DsdcPaths>().ModelsDir;
        await using var conn = new Npgsql.NpgsqlConnection(_app.Database.ConnectionString);
        async Task<long> Run(string status)
        {
            var id = await conn.ExecuteScalarAsync<long>("""
                INSERT INTO training.runs (name, parameters, encoder, encoder_version, dimensions, seed, device, train_size, validation_size,
                                           test_size, status, triggered_by)
                VALUES ('fused-tv', '{}', 'resnet18-minilm', '1', 896, 42, 'cpu', 32, 0, 0, @status, 'test') RETURNING id
                """, new { status });
            // A failed run may leave a folder (a full disk while writing its files).
            Directory.CreateDirectory(Path.Combine(models, ModelArtifacts.RelativeDir(id)));
            if (status != "succeeded") return id;
            var relative = Path.Combine(ModelArtifacts.RelativeDir(id), ModelArtifacts.OnnxFile);
            await conn.ExecuteAsync("UPDATE training.runs SET artifact_path = @relative WHERE id = @id", new { relative, id });
            await File.WriteAllTextAsync(Path.Combine(models, relative), "weights", ct);
            return id;
        }
        var runs = new List<long> { await Run("succeeded") };
        var failedEarly = await Run("failed");
        for (var i = 0; i < 4; i++) runs.Add(await Run("succeeded"));
        var failed = await Run("failed");
        // Run 2 was promoted, then run 4 replaced it: a rollback returns to run 2.
        await conn.ExecuteAsync("""
            INSERT INTO training.promotions (run_id, previous_run_id, kind, reason, promoted_by)
            VALUES (@second, NULL, 'manual', 'test', 'test'), (@fourth, @second, 'manual', 'test', 'test')
            """, new { second = runs[1], fourth = runs[3] });
        bool HasFiles(long id) => Directory.Exists(Path.Combine(models, ModelArtifacts.RelativeDir(id)));
        // Recorded training sets, one document each: a set goes once no run fitted on it keeps its files.
        async Task<long> Set(string key, string age, params long[] fitted)
        {
            var id = await conn.ExecuteScalarAsync<long>("""
                INSERT INTO training.datasets (key, fingerprint, documents, encoder, encoder_version, regions_version, created_at)
                VALUES (@key, 'f', 1, 'resnet18-minilm', '1', 'r', now() - @age::interval) RETURNING id
                """, new { key, age });
            await conn.ExecuteAsync("INSERT INTO training.dataset_documents (dataset_id, document_id, label, vector_id, has_regions) VALUES (@id, @doc, 1, 1, true)",
                new { id, doc = new string('a', 40) });
            await conn.ExecuteAsync("UPDATE training.runs SET dataset_id = @id WHERE id = ANY(@fitted)", new { id, fitted });
            return id;
        }
        var sets = new Dictionary<string, long>
        {
            ["a promoted run keeps it"] = await Set("A", "0 s", runs[0], runs[1]),
            ["its only run loses its files"] = await Set("B", "0 s", runs[2]),
            ["a failed run's"] = await Set("C", "0 s", failedEarly),
            ["no run yet, recorded now"] = await Set("D", "0 s"),
            ["no run, two days old"] = await Set("E", "2 days"),
            ["the newest run's"] = await Set("F", "0 s", runs[4]),
        };

        // The runs of a job keep their files whatever their number: here every run is newer than the job's first.
        Assert.Equal(0, await registry.PruneRunFilesAsync(1, ct, upTo: runs[0] - 1));
        Assert.True(runs.All(HasFiles));

        // The newest two are the last failed run and run 5: of runs 1-4, the two never promoted lose their files, and the
        // folder the earlier failed run left goes too.
        Assert.Equal(2, await registry.PruneRunFilesAsync(2, ct));

        Assert.Equal([false, true, false, true, true], runs.Select(HasFiles));
        Assert.False(HasFiles(failedEarly));
        Assert.True(HasFiles(failed));
        Assert.Equal(7, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM training.runs WHERE id = ANY(@ids)",
            new { ids = runs.Append(failed).Append(failedEarly).ToArray() }));
        Assert.Equal([runs[0], runs[2]], await conn.QueryAsync<long>("SELECT id FROM training.runs WHERE artifact_path IS NULL AND status = 'succeeded' ORDER BY id"));
        Assert.Equal(runs[3], await registry.ChampionRunIdAsync(ct));
        var left = (await conn.QueryAsync<long>("SELECT id FROM training.datasets")).ToHashSet();
        Assert.Equal(["a promoted run keeps it", "no run yet, recorded now", "the newest run's"],
            sets.Where(kv => left.Contains(kv.Value)).Select(kv => kv.Key).Order(StringComparer.Ordinal));
        Assert.Equal(3, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM training.dataset_documents"));
        Assert.Null(await conn.ExecuteScalarAsync<long?>("SELECT dataset_id FROM training.runs WHERE id = @id", new { id = runs[2] }));
        var store = _app.Services.GetRequiredService<TrainingStore>();
        Assert.Equal(sets["a promoted run keeps it"], (await store.DatasetOfRunAsync(runs[0], ct))!.Id);
        Assert.StartsWith($"Run {runs[2]} has no recorded training set: it went with the run's model files", DatasetCsv.WhyNone((await registry.RunAsync(runs[2], ct))!));
        // A download that found the set just before it went stops after the header, never passing for an empty set.
        var removed = await Assert.ThrowsAsync<InvalidOperationException>(() => DatasetCsv.WriteAsync(store, sets["its only run loses its files"], TextWriter.Null, ct));
        Assert.Contains("was removed while it was being read", removed.Message);
        // A run without its files is not promoted, and says why.
        var refused = await registry.PromoteAsync(runs[0], "test", null, ct);
        Assert.False(refused.Promoted);
        Assert.Equal($"run {runs[0]}'s model files were removed: only the newest Training:KeepRunFiles runs and the runs the newest " +
            "Training:KeepChampionFiles promotions name (the champions and the runs they replaced) keep theirs; train again", refused.Message);
        // Nothing more to remove; 0 keeps everything.
        Assert.Equal(0, await registry.PruneRunFilesAsync(2, ct));
        Assert.Equal(0, await registry.PruneRunFilesAsync(0, ct));
        Assert.True(HasFiles(runs[4]));

        // Training:KeepChampionFiles: past KeepRunFiles, only the recent champions and what rollbacks return to keep theirs.
        // Run 5 replaced run 4, then a rollback returned to run 4: the champions' stack is run 2, run 4, so a rollback now
        // returns to run 2, though only older rows name it.
        await conn.ExecuteAsync("""
            INSERT INTO training.promotions (run_id, previous_run_id, kind, reason, promoted_by)
            VALUES (@fifth, @fourth, 'manual', 'test', 'test'), (@fourth, @fifth, 'rollback', 'test', 'test')
            """, new { fifth = runs[4], fourth = runs[3] });
        Assert.Equal(runs[3], await registry.ChampionRunIdAsync(ct));
        // Every promotion counted (0), or the two newest and the stack's top two: nothing more goes.
        Assert.Equal(0, await registry.PruneRunFilesAsync(1, ct));
        Assert.Equal(0, await registry.PruneRunFilesAsync(1, ct, keepChampions: 2));
        Assert.True(HasFiles(runs[1]));
        // One: the newest row's runs (4 and 5) and the champion keep theirs; run 2 goes.
        Assert.Equal(1, await registry.PruneRunFilesAsync(1, ct, keepChampions: 1));
        Assert.Equal([false, false, false, true, true], runs.Select(HasFiles));
        Assert.StartsWith($"run {runs[1]}'s model files were removed", (await registry.PromoteAsync(runs[1], "test", null, ct)).Message);
        var back = await registry.RollbackAsync("test", null, ct);
        Assert.False(back.Promoted);
        Assert.StartsWith($"cannot roll back to run {runs[1]}: its model files were removed", back.Message);
        Assert.Equal(runs[3], await registry.ChampionRunIdAsync(ct));
    }

    private sealed class RetentionApp : DsdcAppFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jobs:Server"] = "false", ["Pipeline:Enabled"] = "false", ["Training:Enabled"] = "false", ["Inference:ReloadIntervalSeconds"] = "0",
        };
    }
}

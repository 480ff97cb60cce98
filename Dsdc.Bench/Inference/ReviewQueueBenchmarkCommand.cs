using System.Diagnostics;
using Dapper;
using Dsdc.Ingestion;
using Dsdc.Shared.Cli;
using Dsdc.Training;
using Npgsql;

namespace Dsdc.Inference.Review;

/// <summary>
/// <c>bench-review [--rounds N] [--take N] [--writes N]</c>: a page of the review queue as production reads it
/// (<see cref="ReviewQueue.NextAsync"/>: each document's latest prediction kept by a trigger, read per class through an
/// index) against the previous form (every prediction ranked per document with DISTINCT ON, then the whole queue ranked),
/// alternated round by round on the database the configuration names; then what the trigger adds to writing a batch
/// of predictions (inserted and rolled back, with the trigger and with it disabled, alternated). Meant for a scratch
/// copy with many documents: <c>scripts/bench-review-queue.sh</c>.
/// </summary>
internal sealed class ReviewQueueBenchmarkCommand(NpgsqlDataSource dataSource, ReviewQueue queue) : ICliCommand
{
    public string Name => "bench-review";
    public string Usage => "[--rounds 7] [--take 25] [--writes 2000]  the review queue's page load and the cost of keeping the latest predictions";

    /// <summary>The review queue's query before <c>inference.latest_predictions</c>.</summary>
    private const string PreviousSql = $"""
        WITH latest AS (
            SELECT DISTINCT ON (document_id) document_id, id, label, top_probability, needs_review, probabilities, created_at
            FROM inference.predictions ORDER BY document_id, created_at DESC, id DESC),
        queue AS (
            SELECT d.id AS document_id, d.original_name, d.ingested_at, p.id AS prediction_id, p.label AS predicted,
                   p.top_probability, coalesce(p.needs_review, false) AS needs_review, p.probabilities,
                   cl.label AS current_label, cl.source AS label_source
            FROM ingestion.documents d
            LEFT JOIN latest p ON p.document_id = d.id
            LEFT {CurrentLabel.JoinOnDocument}
            WHERE (cl.label IS NULL OR p.needs_review)
              AND NOT coalesce(cl.source = 'human' AND cl.created_at >= p.created_at, false))
        SELECT r.*, count(*) OVER () AS total
        FROM (SELECT q.*, row_number() OVER (PARTITION BY q.predicted ORDER BY q.top_probability, q.document_id) AS turn FROM queue q) r
        ORDER BY (r.predicted IS NULL), CASE WHEN r.predicted IS NULL THEN 0 ELSE r.turn END, r.top_probability, r.ingested_at, r.document_id
        LIMIT @take
        """;

    /// <summary>The predicted part of the page before each class's order depended on its label count (migration 0013's
    /// form: the least certain of every class first), to time what counting the labels per class adds.</summary>
    private const string LeastCertainOnlySql = $"""
        WITH predicted AS (
            SELECT x.*, row_number() OVER (PARTITION BY x.predicted ORDER BY x.top_probability, x.document_id) AS turn
            FROM generate_series(0, @lastClass) AS k(label)
            CROSS JOIN LATERAL (
                SELECT lp.document_id, lp.prediction_id, lp.label AS predicted, lp.top_probability, lp.needs_review
                FROM inference.latest_predictions lp
                JOIN ingestion.documents d ON d.id = lp.document_id
                LEFT {CurrentLabel.JoinOnDocument}
                WHERE lp.label = k.label
                  AND (cl.label IS NULL OR lp.needs_review)
                  AND NOT coalesce(cl.source = 'human' AND cl.created_at >= lp.created_at, false)
                ORDER BY lp.top_probability, lp.document_id
                LIMIT @take) x)
        SELECT {ReviewQueue.Columns}
        FROM predicted q
        JOIN ingestion.documents d ON d.id = q.document_id
        JOIN inference.predictions p ON p.id = q.prediction_id
        LEFT {CurrentLabel.JoinOnDocument}
        ORDER BY q.turn, q.top_probability, d.ingested_at, q.document_id
        LIMIT @take
        """;

    private const string WriteSql = """
        INSERT INTO inference.predictions (document_id, user_name, model_id, label, confidence, top_probability, probabilities, duration_ms, needs_review)
        SELECT id, 'bench', 'bench-review', 0, 0.5, 0.5, array_fill(0.0625::real, ARRAY[16]), 1, true
        FROM ingestion.documents ORDER BY id LIMIT @writes
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new CliArgs(args);
        var rounds = cli.Int("--rounds") ?? 7;
        var take = cli.Int("--take") ?? 25;
        var writes = cli.Int("--writes") ?? 2000;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var (documents, predictions, latest) = await conn.QuerySingleAsync<(long, long, long)>(
            "SELECT (SELECT count(*) FROM ingestion.documents), (SELECT count(*) FROM inference.predictions), (SELECT count(*) FROM inference.latest_predictions)");
        Console.WriteLine($"{documents} documents, {predictions} predictions, {latest} with a latest prediction");

        // Warm-up, and the two forms must give the same page.
        var previousPage = (await conn.QueryAsync<ReviewItem>(new CommandDefinition(PreviousSql, new { take }, cancellationToken: ct))).ToList();
        var page = await queue.NextAsync(take, ct);
        if (!previousPage.Select(i => i.DocumentId).SequenceEqual(page.Select(i => i.DocumentId)) || previousPage.FirstOrDefault()?.Total != page.FirstOrDefault()?.Total)
        {
            Console.Error.WriteLine("bench-review: the two forms disagree on the page; nothing measured.");
            return 1;
        }

        var before = new List<double>();
        var after = new List<double>();
        for (var r = 0; r < rounds; r++)
        {
            before.Add(await TimeAsync(async () => await conn.QueryAsync<ReviewItem>(new CommandDefinition(PreviousSql, new { take }, cancellationToken: ct))));
            after.Add(await TimeAsync(async () => await queue.NextAsync(take, ct)));
        }
        Console.WriteLine($"review page of {take} ({page.FirstOrDefault()?.Total ?? 0} waiting), ms over {rounds} rounds:");
        Console.WriteLine($"  previous (DISTINCT ON every prediction): median {Median(before):F1}, best {before.Min():F1}");
        Console.WriteLine($"  production (latest_predictions):         median {Median(after):F1}, best {after.Min():F1}");

        // What the per-class order adds: the predicted part of the page, production against the form that only ever
        // offered the least certain first. With every class at or past ReviewQueue.TypicalFirstBelow labels both give the same rows.
        var parameters = ReviewQueue.PredictedParameters(take, page.FirstOrDefault()?.Total ?? 0);
        Task<IEnumerable<ReviewItem>> Predicted(string sql) => conn.QueryAsync<ReviewItem>(new CommandDefinition(sql, parameters, cancellationToken: ct));
        var same = (await Predicted(LeastCertainOnlySql)).Select(i => i.DocumentId).SequenceEqual((await Predicted(ReviewQueue.PredictedSql)).Select(i => i.DocumentId));
        var leastCertain = new List<double>();
        var perClass = new List<double>();
        for (var r = 0; r < rounds; r++)
        {
            leastCertain.Add(await TimeAsync(() => Predicted(LeastCertainOnlySql)));
            perClass.Add(await TimeAsync(() => Predicted(ReviewQueue.PredictedSql)));
        }
        Console.WriteLine($"the predicted part of the page ({(same ? "the same rows" : "different rows: some class has fewer labels than the threshold")}), ms:");
        Console.WriteLine($"  least certain first in every class (0013): median {Median(leastCertain):F1}, best {leastCertain.Min():F1}");
        Console.WriteLine($"  production (order by each class's labels): median {Median(perClass):F1}, best {perClass.Min():F1}");

        var withTrigger = new List<double>();
        var without = new List<double>();
        for (var r = 0; r < Math.Max(3, rounds / 2); r++)
            foreach (var trigger in new[] { true, false })
            {
                await using var tx = await conn.BeginTransactionAsync(ct);
                if (!trigger) await conn.ExecuteAsync("ALTER TABLE inference.predictions DISABLE TRIGGER predictions_keep_latest", transaction: tx);
                var ms = await TimeAsync(() => conn.ExecuteAsync(new CommandDefinition(WriteSql, new { writes }, tx, cancellationToken: ct)));
                (trigger ? withTrigger : without).Add(ms);
                await tx.RollbackAsync(ct);
            }
        Console.WriteLine($"writing {writes} predictions, ms: with the trigger median {Median(withTrigger):F1}, without {Median(without):F1}");
        return 0;
    }

    private static async Task<double> TimeAsync<T>(Func<Task<T>> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}

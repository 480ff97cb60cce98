using System.Diagnostics;
using System.Runtime.CompilerServices;
using Dapper;
using Npgsql;
using Pgvector;

namespace Dsdc.Embedding;

/// <summary>
/// Similar-document queries over synthetic vectors: a scratch schema holds <c>embeddings</c> and <c>labels</c> tables
/// with only the columns the production query reads (not a copy of the product's DDL) and the production HNSW index
/// definition, and the production query text (its schema names pointed at the scratch schema) runs at several
/// <c>hnsw.ef_search</c> values; recall@10 is measured against the same query with
/// index scans disabled (exact). The schema is dropped at the end.
/// </summary>
internal sealed class VectorSearchBenchmark(NpgsqlDataSource dataSource)
{
    private const int Dimensions = 896;
    private const int Clusters = 1000;
    private const string Schema = "dsdc_bench_embedding";
    private const int K = 10;

    public async IAsyncEnumerable<string> RunAsync(int vectorCount, int queryCount, [EnumeratorCancellation] CancellationToken ct)
    {
        var random = new Random(7);
        var centres = Enumerable.Range(0, Clusters).Select(_ => Gaussian(random, 1.0)).ToArray();
        float[] Sample() => Vectors.Normalize(Add(centres[random.Next(Clusters)], Gaussian(random, 1.5)));

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var watch = Stopwatch.StartNew();
            await CreateSchemaAsync(conn, ct);
            await LoadAsync(conn, vectorCount, Sample, ct);
            var load = watch.Elapsed;
            watch.Restart();
            await conn.ExecuteAsync(new CommandDefinition($"""
                SET maintenance_work_mem = '2GB';
                CREATE INDEX ON {Schema}.embeddings USING hnsw ((embedding::vector({Dimensions})) vector_cosine_ops)
                    WHERE encoder = 'resnet18-minilm';
                ANALYZE {Schema}.embeddings;
                """, commandTimeout: 3600, cancellationToken: ct));
            yield return "";
            yield return $"{vectorCount} synthetic vectors of {Dimensions} dims ({Clusters} gaussian clusters, unit norm): " +
                $"loaded in {load.TotalSeconds:F0} s, HNSW (m=16, ef_construction=64) built in {watch.Elapsed.TotalSeconds:F0} s";

            var queries = Enumerable.Range(0, queryCount).Select(_ => Sample()).ToList();
            // The production query text with its schemas pointed at the scratch schema.
            var sql = SimilarDocumentSearch.SimilarSql(Dimensions)
                .Replace("embedding.embeddings", $"{Schema}.embeddings").Replace("ingestion.current_labels", $"{Schema}.current_labels")
                .Replace("ingestion.documents", $"{Schema}.documents");
            var (exact, exactLatency) = await RunQueriesAsync(conn, sql, queries, settings: "SET LOCAL enable_indexscan = off;", ct);
            yield return $"{queryCount} queries, top {K}, production query text (labels joined)";
            yield return "| search | p50 (ms) | p95 (ms) | recall@10 |";
            yield return "| --- | --- | --- | --- |";
            yield return $"| exact (sequential scan) | {Percentile(exactLatency, 0.5):F1} | {Percentile(exactLatency, 0.95):F1} | 1.000 |";
            foreach (var ef in new[] { 40, 100, 200 })
            {
                var (found, latency) = await RunQueriesAsync(conn, sql, queries,
                    $"SET LOCAL hnsw.ef_search = {ef}; SET LOCAL hnsw.iterative_scan = strict_order;", ct);
                var recall = found.Zip(exact, (a, b) => (double)a.Intersect(b).Count() / b.Length).Average();
                yield return $"| HNSW ef_search={ef} | {Percentile(latency, 0.5):F1} | {Percentile(latency, 0.95):F1} | {recall:F3} |";
            }
            var plan = await conn.QueryAsync<string>(new CommandDefinition(
                $"SET search_path = {Schema}, public; EXPLAIN " + sql.Replace("@query", "'" + new Vector(queries[0]) + "'")
                    .Replace("@encoder", "'resnet18-minilm'").Replace("@version", "'1'").Replace("@exclude", "NULL").Replace("@k", K.ToString()),
                cancellationToken: ct));
            yield return "Plan: " + string.Join(" / ", plan.Where(l => l.Contains("Index Scan") || l.Contains("Seq Scan")).Select(l => l.Trim()));
        }
        finally
        {
            await conn.ExecuteAsync(new CommandDefinition($"RESET search_path; DROP SCHEMA IF EXISTS {Schema} CASCADE", cancellationToken: CancellationToken.None));
        }
    }

    private static async Task CreateSchemaAsync(NpgsqlConnection conn, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition($"""
            DROP SCHEMA IF EXISTS {Schema} CASCADE;
            CREATE SCHEMA {Schema};
            CREATE TABLE {Schema}.embeddings (id bigint PRIMARY KEY, document_id char(40) NOT NULL, encoder text NOT NULL,
                encoder_version text NOT NULL, embedding vector NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX ON {Schema}.embeddings (document_id, encoder);
            CREATE TABLE {Schema}.labels (id bigint PRIMARY KEY, document_id char(40) NOT NULL, label smallint NOT NULL,
                source text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX ON {Schema}.labels (document_id, created_at DESC);
            CREATE TABLE {Schema}.documents (id char(40) PRIMARY KEY);
            CREATE VIEW {Schema}.current_labels AS SELECT DISTINCT ON (document_id) document_id, label, source, created_at
                FROM {Schema}.labels ORDER BY document_id, (source = 'human') DESC, created_at DESC, id DESC;
            """, cancellationToken: ct));

    private static async Task LoadAsync(NpgsqlConnection conn, int count, Func<float[]> sample, CancellationToken ct)
    {
        await using (var writer = await conn.BeginBinaryImportAsync(
            $"COPY {Schema}.embeddings (id, document_id, encoder, encoder_version, embedding) FROM STDIN (FORMAT BINARY)", ct))
        {
            for (var i = 0; i < count; i++)
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync((long)i, ct);
                await writer.WriteAsync(DocumentId(i), ct);
                await writer.WriteAsync("resnet18-minilm", ct);
                await writer.WriteAsync("1", ct);
                await writer.WriteAsync(new Vector(sample()), ct);
            }
            await writer.CompleteAsync(ct);
        }
        await conn.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO {Schema}.labels (id, document_id, label, source) SELECT id, document_id, id % 16, 'dataset' FROM {Schema}.embeddings; " +
            $"INSERT INTO {Schema}.documents (id) SELECT document_id FROM {Schema}.embeddings; ANALYZE {Schema}.documents",
            commandTimeout: 600, cancellationToken: ct));
    }

    private static async Task<(List<string[]> Found, List<double> LatencyMs)> RunQueriesAsync(
        NpgsqlConnection conn, string sql, IReadOnlyList<float[]> queries, string settings, CancellationToken ct)
    {
        var found = new List<string[]>();
        var latency = new List<double>();
        foreach (var q in queries)
        {
            var watch = Stopwatch.StartNew();
            await using var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition($"SET LOCAL search_path = {Schema}, public; {settings}", transaction: tx, cancellationToken: ct));
            var ids = (await conn.QueryAsync<string>(new CommandDefinition(
                $"SELECT document_id FROM ({sql}) r",
                new { query = new Vector(q), encoder = "resnet18-minilm", version = "1", k = K, exclude = (string?)null },
                tx, cancellationToken: ct))).ToArray();
            await tx.CommitAsync(ct);
            latency.Add(watch.Elapsed.TotalMilliseconds);
            found.Add(ids);
        }
        return (found, latency);
    }

    private static string DocumentId(int i) => i.ToString("x40");

    private static float[] Gaussian(Random random, double scale)
    {
        var v = new float[Dimensions];
        for (var i = 0; i < Dimensions; i++)
            v[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return v;
    }

    private static float[] Add(float[] a, float[] b) => a.Select((x, i) => x + b[i]).ToArray();

    private static double Percentile(List<double> values, double p) => values.Order().ElementAt((int)Math.Min(values.Count - 1, p * values.Count));
}

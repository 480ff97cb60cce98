using Dsdc.Shared.Cli;
using Npgsql;

namespace Dsdc.Embedding;

/// <summary>
/// <c>bench-embedding [--images N] [--texts N] [--vectors N] [--queries N] [--skip-search] [--skip-encoder]</c>:
/// the default encoder's throughput per part beside a bare ONNX Runtime loop over the same tensors, then
/// similar-document query latency and recall@10 over synthetic vectors in a scratch schema of the configured database.
/// </summary>
internal sealed class EmbeddingBenchmarkCommand(OnnxSessionFactory sessions, EncoderCatalog catalog, NpgsqlDataSource dataSource)
    : ICliCommand
{
    public string Name => "bench-embedding";

    public string Usage =>
        "[--images N] [--texts N] [--vectors N] [--queries N] [--skip-encoder] [--skip-search]  measure embedding and search speed";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var cli = new Training.CliArgs(args);
        int Option(string name, int fallback) => cli.Int(name) ?? fallback;

        Console.WriteLine($"# bench-embedding on {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        if (!args.Contains("--skip-encoder"))
        {
            using var bench = new EncoderThroughputBenchmark(sessions, catalog);
            foreach (var line in bench.Run(Option("--images", 32), Option("--texts", 64), ct))
                Console.WriteLine(line);
        }
        if (!args.Contains("--skip-search"))
        {
            var search = new VectorSearchBenchmark(dataSource);
            await foreach (var line in search.RunAsync(Option("--vectors", 100_000), Option("--queries", 200), ct))
                Console.WriteLine(line);
        }
        return 0;
    }
}

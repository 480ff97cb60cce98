using System.Text.RegularExpressions;
using Dsdc.Tests.Deployment;

namespace Dsdc.Tests.Architecture;

/// <summary>
/// Each module owns its tables in its own schema, and its SQL names no other module's tables. What the migrations
/// create says who owns what: a table belongs to the module of its schema, and a view an owner creates in its schema is
/// that module's published read interface, which any module may read. The web host runs no SQL over module data.
/// (Migrations themselves, in <c>sql/</c>, may join schemas: foreign keys reach across modules.)
/// </summary>
public sealed partial class ModuleBoundaryTests
{
    /// <summary>The module folder that owns each schema; modules without a schema (Ocr, Monitoring...) own no tables.</summary>
    private static readonly Dictionary<string, string> SchemaOwners = new()
    {
        ["ingestion"] = "Ingestion",
        ["pipeline"] = "Pipeline",
        ["embedding"] = "Embedding",
        ["training"] = "Training",
        ["inference"] = "Inference",
        ["auth"] = "Auth",
    };

    private sealed record Catalog(Dictionary<string, HashSet<string>> Tables, Dictionary<string, HashSet<string>> Views)
    {
        public string? SchemaOfTable(string table) => Tables.FirstOrDefault(t => t.Value.Contains(table)).Key;
    }

    [Fact]
    public void EveryTableOfTheMigrationsLiesInTheSchemaOfAModule()
    {
        var catalog = ReadMigrations();
        Assert.All(catalog.Tables.Where(t => t.Value.Count > 0), t => Assert.Contains(t.Key, SchemaOwners.Keys));
        Assert.Contains("original_documents", catalog.Tables["ingestion"]);
        Assert.Contains("embeddings", catalog.Tables["embedding"]);
        Assert.Contains("current_labels", catalog.Views["ingestion"]);
    }

    [Fact]
    public void AModuleNamesOnlyItsOwnTablesAndTheViewsOtherModulesPublish()
    {
        var catalog = ReadMigrations();
        var violations = new List<string>();
        foreach (var moduleDir in Directory.GetDirectories(RepositoryFiles.PathOf("Dsdc.Modules")))
        {
            var module = Path.GetFileName(moduleDir);
            if (module is "bin" or "obj") continue;
            var own = SchemaOwners.FirstOrDefault(o => o.Value == module).Key;
            foreach (var file in SourceFiles(moduleDir))
                violations.AddRange(Violations(File.ReadAllText(file), own, allowPublishedViews: true, catalog)
                    .Select(v => $"{Path.GetRelativePath(RepositoryFiles.Root, file)}: {v}"));
        }
        Assert.True(violations.Count == 0, "SQL across module boundaries:\n" + string.Join('\n', violations));
    }

    [Fact]
    public void TheWebHostRunsNoSqlOverModuleData()
    {
        var catalog = ReadMigrations();
        var violations = SourceFiles(RepositoryFiles.PathOf("Dsdc.Web"))
            .SelectMany(f => Violations(File.ReadAllText(f), ownSchema: null, allowPublishedViews: false, catalog)
                .Select(v => $"{Path.GetRelativePath(RepositoryFiles.Root, f)}: {v}"))
            .ToList();
        violations.AddRange(SourceFiles(RepositoryFiles.PathOf("Dsdc.Web"))
            .Where(f => File.ReadAllText(f) is var text && (text.Contains("using Dapper", StringComparison.Ordinal) || text.Contains("NpgsqlDataSource", StringComparison.Ordinal)))
            .Select(f => $"{Path.GetRelativePath(RepositoryFiles.Root, f)}: opens the database itself"));
        Assert.True(violations.Count == 0, "SQL in the web host:\n" + string.Join('\n', violations));
    }

    [Fact]
    public void TheCheckFindsWhatItMustFind()
    {
        var catalog = ReadMigrations();
        Assert.NotEmpty(Violations("const string sql = \"INSERT INTO ingestion.labels (document_id) VALUES (@id)\";", "inference", true, catalog));
        Assert.NotEmpty(Violations("\"\"\"\n SELECT * FROM training.promotions p JOIN training.runs r ON r.id = p.run_id\n\"\"\"", null, true, catalog));
        Assert.NotEmpty(Violations("\"SELECT text FROM raw_texts WHERE document_id = @id\"", "training", true, catalog));
        Assert.NotEmpty(Violations("\"SELECT label FROM ingestion.current_labels\"", null, false, catalog));
        Assert.Empty(Violations("\"SELECT label FROM ingestion.current_labels cl JOIN pipeline.texts t ON true\"", "training", true, catalog));
        Assert.Empty(Violations("\"SELECT id FROM training.runs\"", "training", true, catalog));
        Assert.Empty(Violations("// reads FROM labels in a comment\nvar x = embedding.Milliseconds;", "pipeline", true, catalog));
    }

    private static IEnumerable<string> SourceFiles(string dir) =>
        Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    private static IEnumerable<string> Violations(string source, string? ownSchema, bool allowPublishedViews, Catalog catalog)
    {
        var code = LineComment().Replace(source, "");
        foreach (Match m in Qualified().Matches(code))
        {
            var (schema, name) = (m.Groups[1].Value, m.Groups[2].Value);
            if (!SchemaOwners.ContainsKey(schema) || schema == ownSchema) continue;
            var isTable = catalog.Tables.GetValueOrDefault(schema)?.Contains(name) == true;
            var isView = catalog.Views.GetValueOrDefault(schema)?.Contains(name) == true;
            if (isTable) yield return $"names {schema}.{name}, a table of module {SchemaOwners[schema]}";
            else if (isView && !allowPublishedViews) yield return $"names {schema}.{name}, a view of module {SchemaOwners[schema]}";
        }
        foreach (Match m in Unqualified().Matches(code))
        {
            var name = m.Groups[2].Value;
            if (catalog.SchemaOfTable(name) is { } schema && SchemaOwners.ContainsKey(schema) && (schema != ownSchema))
                yield return $"names {name} without its schema, a table of module {SchemaOwners[schema]}";
        }
    }

    /// <summary>Tables and views by schema after every migration, in order (CREATE TABLE / VIEW, ALTER TABLE ... SET SCHEMA).</summary>
    private static Catalog ReadMigrations()
    {
        var tables = new Dictionary<string, HashSet<string>>();
        var views = new Dictionary<string, HashSet<string>>();
        HashSet<string> Of(Dictionary<string, HashSet<string>> d, string schema) =>
            d.TryGetValue(schema, out var set) ? set : d[schema] = [];
        foreach (var script in Directory.GetFiles(RepositoryFiles.PathOf("sql"), "*.sql").Order(StringComparer.Ordinal))
        {
            var sql = SqlComment().Replace(File.ReadAllText(script), "");
            foreach (Match m in Statement().Matches(sql))
            {
                if (m.Groups["table"].Success)
                    Of(tables, m.Groups["tschema"].Success ? m.Groups["tschema"].Value : "public").Add(m.Groups["table"].Value);
                else if (m.Groups["view"].Success)
                    Of(views, m.Groups["vschema"].Success ? m.Groups["vschema"].Value : "public").Add(m.Groups["view"].Value);
                else
                {
                    var from = m.Groups["mschema"].Success ? m.Groups["mschema"].Value : "public";
                    Of(tables, from).Remove(m.Groups["moved"].Value);
                    Of(tables, m.Groups["to"].Value).Add(m.Groups["moved"].Value);
                }
            }
        }
        return new Catalog(tables, views);
    }

    [GeneratedRegex(@"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:(?<tschema>[a-z_]+)\.)?(?<table>[a-z_]+)|\bCREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:(?<vschema>[a-z_]+)\.)?(?<view>[a-z_]+)|\bALTER\s+TABLE\s+(?:(?<mschema>[a-z_]+)\.)?(?<moved>[a-z_]+)\s+SET\s+SCHEMA\s+(?<to>[a-z_]+)")]
    private static partial Regex Statement();

    [GeneratedRegex(@"--[^\n]*")]
    private static partial Regex SqlComment();

    [GeneratedRegex(@"(?m)^\s*//.*$")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"(?<![\w.{])([a-z_]+)\.([a-z_]+)\b")]
    private static partial Regex Qualified();

    [GeneratedRegex(@"\b(FROM|JOIN|INTO|UPDATE|TABLE|EXISTS)\s+([a-z_]+)\b(?!\.)")]
    private static partial Regex Unqualified();
}

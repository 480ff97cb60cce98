using Dsdc.Inference.Api;
using Dsdc.Shared;
using Dsdc.Tests.Api;
using Dsdc.Web.Ui;

namespace Dsdc.Tests.Ui;

/// <summary>
/// The documents list (<c>/documents</c>, <see cref="UiQueries.DocumentsAsync"/>) read page by page against the database's
/// own answer: every stored document once, newest first, each with its current label; a class search finds every
/// document whose current label it is (a person's correction included) and the names that hold the words. Its two queries
/// (without a class, the page chosen from the documents alone; with one, each label looked up as documents are read) give
/// what the view <c>ingestion.current_labels</c> gives.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class DocumentsListTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryPageListsTheDocumentsNewestFirstWithTheirCurrentLabelAndAClassSearchFindsEachOfItsDocuments()
    {
        const string order = """
            SELECT d.id, c.label, c.source FROM ingestion.documents d LEFT JOIN ingestion.current_labels c ON c.document_id = d.id
            WHERE {0} ORDER BY d.ingested_at DESC, d.id
            """;
        var queries = app.Get<UiQueries>();
        var all = await app.QueryAsync<(string Id, short? Label, string? Source)>(string.Format(order, "true"));
        Assert.True(all.Count > UiQueries.PageSize, "the corpus fills more than one page");
        var moved = all.First(d => d.Label is not null && d.Label != 3).Id;
        var label = await app.ScalarAsync<long>("INSERT INTO ingestion.labels (document_id, label, source, created_by) VALUES (@moved, 3, 'human', 'tester') RETURNING id", new { moved });
        try
        {
            all = await app.QueryAsync<(string Id, short? Label, string? Source)>(string.Format(order, "true"));
            Assert.Equal(all.Select(d => (d.Id, d.Label, d.Source)), (await ReadAllAsync(null)).Select(d => (d.Id, d.Label, d.LabelSource)));

            var name = DocumentClasses.NameOf(3);
            var ofClass = await app.QueryAsync<(string Id, short? Label, string? Source)>(
                string.Format(order, "c.label = 3 OR d.original_name ILIKE '%' || @name || '%'"), new { name });
            var found = await ReadAllAsync(name);
            Assert.Equal(ofClass.Select(d => (d.Id, d.Label, d.Source)), found.Select(d => (d.Id, d.Label, d.LabelSource)));
            Assert.Contains(found, d => d.Id == moved && d.LabelSource == "human");
            Assert.True(found.Count(d => d.Label == 3) > 1, "the class search lists the class's documents, not only the moved one");
            // The class's query paged in twos, skipping the first ones: the same documents in the same order.
            var ingestion = app.Get<Dsdc.Ingestion.IngestionQueries>();
            var paged = new List<Dsdc.Ingestion.DocumentSummary>();
            for (var skip = 0; ; skip += 2)
            {
                var twos = await ingestion.DocumentsAsync(null, name, 3, skip, 2, Ct);
                paged.AddRange(twos);
                if (twos.Count < 2) break;
            }
            Assert.Equal(ofClass.Select(d => (d.Id, d.Label)), paged.Select(d => (d.Id, d.Label)));

            // Part of a name and an id prefix: the page chosen from the documents, the labels read for it.
            var prefix = moved[..6];
            var byId = await app.QueryAsync<(string Id, short? Label, string? Source)>(
                string.Format(order, "d.id LIKE @prefix || '%' OR d.original_name ILIKE '%' || @prefix || '%'"), new { prefix });
            Assert.Contains(byId, d => d.Id == moved);
            Assert.Equal(byId.Select(d => (d.Id, d.Label, d.Source)), (await ReadAllAsync(prefix)).Select(d => (d.Id, d.Label, d.LabelSource)));
        }
        finally
        {
            await app.ScalarAsync<long>("DELETE FROM ingestion.labels WHERE id = @label RETURNING 1", new { label });
        }

        async Task<List<DocumentListItem>> ReadAllAsync(string? query)
        {
            var listed = new List<DocumentListItem>();
            for (var page = 1; ; page++)
            {
                var (items, more) = await queries.DocumentsAsync(query, page, Ct);
                Assert.True(items.Count <= UiQueries.PageSize);
                listed.AddRange(items);
                if (!more) return listed;
            }
        }
    }
}

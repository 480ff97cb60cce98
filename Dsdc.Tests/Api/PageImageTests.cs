using System.Net;
using Dsdc.Auth;
using Dsdc.Tests.Auth;

namespace Dsdc.Tests.Api;

/// <summary>The UI's page image and thumbnail of a stored document, found by its id only.</summary>
[Collection(ApiCollection.Name)]
public sealed class PageImageTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AStoredDocumentHasAPageImageAndAThumbnailAndAnUnknownOneHasNeither()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var id = await app.ScalarAsync<string>(
            "SELECT d.id FROM ingestion.original_documents d WHERE d.ingest_state = 'stored' AND EXISTS (SELECT 1 FROM pipeline.processed_images i WHERE i.document_id = d.id) LIMIT 1");

        foreach (var image in new[] { "page.png", "thumb.png" })
        {
            var response = await client.GetAsync($"/ui/documents/{id}/{image}", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await response.Content.ReadAsByteArrayAsync(Ct))[..4]);
            // The browser keeps them (the page of a document id never changes), never a shared cache: they are behind log-in.
            var cache = response.Headers.CacheControl;
            Assert.True(cache is { Private: true, Public: false }, cache?.ToString());
            Assert.Equal(image == "page.png" ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1), cache!.MaxAge);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/ui/documents/{new string('0', 40)}/page.png", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/ui/documents/..%2Fsecret/page.png", Ct)).StatusCode);
    }
}

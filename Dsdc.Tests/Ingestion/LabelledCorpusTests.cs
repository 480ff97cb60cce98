using Dsdc.Ingestion;
using Dsdc.Pipeline;
using Dsdc.Shared;
using Dsdc.Tests.Infrastructure;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Ingestion;

public sealed class LabelledCorpusTests
{
    [Theory]
    [InlineData("11_invoice", 11)]
    [InlineData("3_invoice", 3)] // the index decides
    [InlineData("invoice", 11)]
    [InlineData("Invoices", 11)]
    [InlineData("scientific_reports", 5)]
    [InlineData("Scientific Publication", 6)]
    [InlineData("news-article", 9)]
    [InlineData("FILE_FOLDERS", 8)]
    [InlineData("Résumés", 14)]
    [InlineData("RÉSUMÉ", 14)]
    [InlineData("e-mail", null)]
    [InlineData("forms2024", null)]
    [InlineData("16_memo", null)] // no class 16, and "16 memo" is no class's name
    [InlineData("bootcamp_golden_jawad", null)]
    [InlineData("invoice2data_pdfs", null)]
    public void AFolderNamesAClassByItsIndexOrByTheClassName(string folder, int? expected) =>
        Assert.Equal(expected, LabelledCorpus.ClassOfFolder(folder));

    [Fact]
    public void AFileTakesTheClassOfItsNearestClassFolderAndNoneAboveTheRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "letters", "archive");
        Assert.Equal(15, LabelledCorpus.LabelOf(Path.Combine(root, "11_invoice", "memos", "2024", "a.tif"), root));
        Assert.Equal(11, LabelledCorpus.LabelOf(Path.Combine(root, "11_invoice", "a.tif"), root));
        Assert.Null(LabelledCorpus.LabelOf(Path.Combine(root, "unsorted", "a.tif"), root));
        Assert.Null(LabelledCorpus.LabelOf(Path.Combine(root, "unsorted", "a.tif"), root + Path.DirectorySeparatorChar));
        Assert.Equal(0, LabelledCorpus.LabelOf(Path.Combine(root, "unsorted", "a.tif")));
    }

    [Fact]
    public void SimulatedArrivalsPutEachCopiedDocumentInAFolderOfItsOwnWithItsClass()
    {
        var data = Directory.CreateTempSubdirectory("dsdc-arrivals-").FullName;
        try
        {
            var paths = new DsdcPaths(data, new DsdcOptions { DataDir = data });
            var options = new PipelineOptions { MockArrivals = { CorpusDir = Fixtures.DatasetsRoot, Count = 3 } };
            var job = new MockArrivalsJob(paths, Options.Create(options), new HostingEnvironment { ContentRootPath = data });

            Assert.StartsWith("3 document(s) copied", job.Run());

            var classOf = Fixtures.Labelled().ToLookup(d => Path.GetFileName(d.Path), d => d.Label);
            var folders = Directory.GetDirectories(paths.Inbox);
            Assert.Equal(3, folders.Length);
            foreach (var folder in folders)
            {
                Assert.DoesNotContain(".", Path.GetFileName(folder)[..1]); // renamed from its hidden name
                var document = Assert.Single(Directory.GetFiles(folder), f => Path.GetFileName(f) != "label.txt");
                var label = int.Parse(File.ReadAllText(Path.Combine(folder, "label.txt")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.Contains(label, classOf[Path.GetFileName(document)]);
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}

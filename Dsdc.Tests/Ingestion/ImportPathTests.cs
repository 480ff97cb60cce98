using Dsdc.Ingestion;

namespace Dsdc.Tests.Ingestion;

/// <summary>Where a folder really is, for import's check that the archive and the data folder do not overlap.</summary>
public sealed class ImportPathTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("dsdc-realpath-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void EverySymbolicLinkAlongThePathIsResolved()
    {
        var real = Directory.CreateDirectory(Path.Combine(root, "real", "data", "inbox")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(root, "abs"), Path.Combine(root, "real"));   // absolute target
        Directory.CreateSymbolicLink(Path.Combine(root, "rel"), "real/data");                   // relative target
        Directory.CreateSymbolicLink(Path.Combine(root, "real", "up"), "..");                   // a link to its own parent
        Directory.CreateSymbolicLink(Path.Combine(root, "chain"), "abs");                       // a link to a link

        var rootReal = ImportCommand.RealPath(root); // /tmp may itself be a link
        var inbox = Path.Combine(rootReal, "real", "data", "inbox");
        Assert.Equal(inbox, ImportCommand.RealPath(real));
        Assert.Equal(inbox, ImportCommand.RealPath(Path.Combine(root, "abs", "data", "inbox")));
        Assert.Equal(inbox, ImportCommand.RealPath(Path.Combine(root, "rel", "inbox")));
        Assert.Equal(inbox, ImportCommand.RealPath(Path.Combine(root, "chain", "up", "real", "data", "inbox")));
        Assert.Equal(Path.Combine(rootReal, "real"), ImportCommand.RealPath(Path.Combine(root, "rel", "..")));
        // What does not exist is kept as written, after what does is resolved.
        Assert.Equal(Path.Combine(inbox, "not", "yet"), ImportCommand.RealPath(Path.Combine(root, "rel", "inbox", "not", "yet")));
    }

    [Fact]
    public void AnArchiveOverlapsTheDataFolderAsWrittenWhereItReallyIsOrThroughOneOfItsFoldersThatIsALink()
    {
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        var elsewhere = Directory.CreateDirectory(Path.Combine(root, "mounted-inbox")).FullName;
        var inbox = Path.Combine(data, "to_ingest");
        Directory.CreateSymbolicLink(inbox, elsewhere);                                   // data/to_ingest -> /.../mounted-inbox
        Directory.CreateSymbolicLink(Path.Combine(root, "data-link"), data);
        var archive = Directory.CreateDirectory(Path.Combine(root, "archive")).FullName;
        string[] folders = [inbox, Path.Combine(data, "raw")];

        Assert.True(ImportCommand.Overlaps(inbox, data, folders));                         // under the data folder as written
        Assert.True(ImportCommand.Overlaps(elsewhere, data, folders));                     // where the inbox really is
        Assert.True(ImportCommand.Overlaps(Path.Combine(root, "data-link"), data, folders)); // a link to the data folder
        Assert.True(ImportCommand.Overlaps(root, data, folders));                          // the data folder inside the archive
        Assert.True(ImportCommand.Overlaps(data, data, folders));                          // the data folder itself
        Assert.True(ImportCommand.Overlaps(Path.Combine(data, "raw", "ab"), data, folders)); // inside one of its folders
        Assert.False(ImportCommand.Overlaps(archive, data, folders));
        // A folder of its own under the data folder (a downloaded sample in data/corpus) holds none of the app's files.
        var corpus = Directory.CreateDirectory(Path.Combine(data, "corpus", "rvl")).FullName;
        Assert.False(ImportCommand.Overlaps(corpus, data, folders));
        Assert.False(ImportCommand.Overlaps(Path.Combine(data, "corpus"), data, folders));
        // ... unless it is one of them where it really is.
        Directory.CreateSymbolicLink(Path.Combine(data, "corpus", "inbox-link"), elsewhere);
        Assert.True(ImportCommand.Overlaps(Path.Combine(data, "corpus", "inbox-link"), data, folders));
    }

    [Fact]
    public void ACycleOfLinksEndsInsteadOfLoopingForever()
    {
        Directory.CreateSymbolicLink(Path.Combine(root, "a"), "b");
        Directory.CreateSymbolicLink(Path.Combine(root, "b"), "a");
        var resolved = ImportCommand.RealPath(Path.Combine(root, "a", "x"));
        Assert.StartsWith(ImportCommand.RealPath(root), resolved);
    }
}

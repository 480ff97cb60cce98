using System.Buffers.Binary;
using Dsdc.ImageProcessing;

namespace Dsdc.Tests.ImageProcessing;

/// <summary>The UI's page image: the first page of any format as a PNG no wider than asked.</summary>
public sealed class PagePreviewTests : IDisposable
{
    private readonly ImagingServices _services = new();

    [Theory]
    [InlineData("g4-tiff")]
    [InlineData("grey-jpeg")]
    [InlineData("text-pdf")]
    public void TheFirstPageBecomesAPngNoWiderThanAsked(string kind)
    {
        var source = kind switch
        {
            "g4-tiff" => TestDocuments.G4Paper,
            "grey-jpeg" => TestDocuments.JpegMemo,
            _ => TestDocuments.TextPdf,
        };

        var png = _services.Get<PagePreview>().FirstPagePng(source, 600, TestContext.Current.CancellationToken);

        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.AsSpan(0, 4).ToArray());
        var (width, height) = (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.InRange(width, 1, 600);
        Assert.True(height > width / 2, $"{width}x{height}: a page keeps its proportions");
    }

    public void Dispose() => _services.Dispose();
}

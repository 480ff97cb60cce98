using Dsdc.Embedding;
using Dsdc.ImageProcessing;
using Microsoft.Extensions.Options;

namespace Dsdc.Tests.Embedding;

/// <summary>The region features of a real page, for each region set (<c>Embedding:RegionSet</c>).</summary>
public sealed class RegionEncoderTests
{
    [Fact]
    public void TheBandsAreTheSameFeaturesAsTheirPartOfEveryRegion()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = EmbeddingTestKit.DatasetFile("bootcamp_golden_alimsaleh/15_memo/memo_01413.tif");
        var all = EmbeddingTestKit.Regions;
        using var bands = new RegionEncoder(EmbeddingTestKit.Sessions(), EmbeddingTestKit.Preprocessor(),
            Options.Create(new EmbeddingOptions { RegionSet = "bands" }));

        var every = all.Encode(path, DocumentFormat.Tiff, ct);
        var four = bands.Encode(path, DocumentFormat.Tiff, ct);

        Assert.Equal((11 * 512, 4 * 512), (all.Dimensions, bands.Dimensions));
        Assert.Equal(["top-quarter", "top-half", "bottom-half", "bottom-quarter"], bands.Set.Regions.Select(r => r.Name));
        var expected = bands.Set.Regions.SelectMany(r =>
        {
            var k = PageRegions.All.ToList().IndexOf(r);
            return every[(k * 512)..((k + 1) * 512)];
        }).ToArray();
        Assert.Equal(expected, four);
        // Stored features of one set are never read as the other's.
        Assert.NotEqual(all.Version, bands.Version);
        Assert.StartsWith("resnet18-1;regions11-448x576-box;", all.Version);
    }

    [Theory]
    [InlineData("all", true)]
    [InlineData("BANDS", true)]
    [InlineData("quadrants", false)]
    [InlineData("", false)]
    public void AnUnknownRegionSetIsRefusedAtStart(string name, bool valid)
    {
        var validator = new EmbeddingOptionsValidator(EmbeddingTestKit.Paths(Path.GetTempPath()));
        var result = validator.Validate(null, new EmbeddingOptions { RegionSet = name });
        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains("known: all, bands", result.FailureMessage);
    }
}

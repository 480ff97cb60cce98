using Dsdc.TextProcessing;

namespace Dsdc.Tests.TextProcessing;

public sealed class TextCleanerTests
{
    [Fact]
    public void CleaningKeepsLowercaseWordsAndDropsStopWordsMarkersAndShortTokens()
    {
        var cleaned = TextCleaner.Clean("pgNbr=2 Dear Mr. SMITH,\nThe invoice #4711 is &amp; was paid on 12/03/1998. A b c");

        Assert.Equal("dear mr smith invoice paid", cleaned);
    }

    [Fact]
    public void HtmlEntitiesAreDecodedBeforeWordsAreCut()
    {
        Assert.Equal("caf teau", TextCleaner.Clean("Caf&eacute; g&acirc;teau")); // accented letters split words, as in the original
        Assert.Equal("research development", TextCleaner.Clean("Research&nbsp;&amp;&nbsp;Development"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\t ")]
    [InlineData("12 34 & % $ pgNbr=1")]
    [InlineData("the and of to")]
    public void AnEmptyResultIsValid(string raw)
    {
        Assert.Equal("", TextCleaner.Clean(raw));
    }

    [Fact]
    public void ContractionsLeaveNoStopWordFragments()
    {
        // "don't" splits into "don" and "t": both are on the list, as in the original's stop words.
        Assert.Equal("know", TextCleaner.Clean("I don't know"));
    }
}

using Dsdc.Training;

namespace Dsdc.Tests.Training;

public sealed class SplitAssignerTests
{
    private static List<(string, int)> Documents(int perClass, int classes, string prefix) =>
        [.. Enumerable.Range(0, classes).SelectMany(c => Enumerable.Range(0, perClass).Select(i => ($"{prefix}-{c}-{i}", c)))];

    [Fact]
    public void SplitIsStratifiedForEveryClass()
    {
        var split = SplitAssigner.AssignNew([], Documents(40, 16, "a"), 0.15, 0.15, seed: 7);
        foreach (var cls in split.GroupBy(s => s.Label))
        {
            Assert.Equal(28, cls.Count(s => s.Side == SplitSides.Train));
            Assert.Equal(6, cls.Count(s => s.Side == SplitSides.Validation));
            Assert.Equal(6, cls.Count(s => s.Side == SplitSides.Test));
        }
    }

    [Fact]
    public void SplitIsDeterministicGivenTheSeed()
    {
        var docs = Documents(10, 4, "d");
        Assert.Equal(SplitAssigner.AssignNew([], docs, 0.15, 0.15, 1), SplitAssigner.AssignNew([], docs, 0.15, 0.15, 1));
        Assert.NotEqual(SplitAssigner.AssignNew([], docs, 0.15, 0.15, 1), SplitAssigner.AssignNew([], docs, 0.15, 0.15, 2));
    }

    [Fact]
    public void GrowingDataKeepsOldSidesAndStaysStratified()
    {
        var first = SplitAssigner.AssignNew([], Documents(20, 16, "old"), 0.15, 0.15, 3);
        var added = SplitAssigner.AssignNew(first, Documents(20, 16, "new"), 0.15, 0.15, 3);
        Assert.DoesNotContain(added, a => a.DocumentId.StartsWith("old", StringComparison.Ordinal));
        var all = first.Concat(added).ToList();
        foreach (var cls in all.GroupBy(s => s.Label))
        {
            Assert.Equal(28, cls.Count(s => s.Side == SplitSides.Train));
            Assert.Equal(6, cls.Count(s => s.Side == SplitSides.Validation));
            Assert.Equal(6, cls.Count(s => s.Side == SplitSides.Test));
        }
    }

    [Fact]
    public void SmallClassesTrainFirst()
    {
        var split = SplitAssigner.AssignNew([], [("only", 3)], 0.15, 0.15, 1);
        Assert.Equal(SplitSides.Train, Assert.Single(split).Side);
    }
}

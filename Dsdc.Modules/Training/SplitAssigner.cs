using System.Security.Cryptography;
using System.Text;

namespace Dsdc.Training;

public sealed record SplitAssignment(string DocumentId, int Label, string Side);

/// <summary>
/// Assigns new documents to train, validation or test, stratified by label and deterministic given the seed, without
/// moving any document already assigned: per class, each new document (in an order fixed by a seeded hash of its id)
/// goes to the side furthest below its target share of that class. Small classes fill train first, then validation, then test.
/// </summary>
public static class SplitAssigner
{
    public static IReadOnlyList<SplitAssignment> AssignNew(
        IReadOnlyList<SplitAssignment> existing, IReadOnlyList<(string DocumentId, int Label)> unassigned,
        double validationFraction, double testFraction, int seed)
    {
        (string Side, double Share)[] targets =
            [(SplitSides.Train, 1 - validationFraction - testFraction), (SplitSides.Validation, validationFraction), (SplitSides.Test, testFraction)];
        var result = new List<SplitAssignment>();
        foreach (var group in unassigned.GroupBy(d => d.Label).OrderBy(g => g.Key))
        {
            var counts = targets.ToDictionary(t => t.Side, t => existing.Count(e => e.Label == group.Key && e.Side == t.Side));
            var total = counts.Values.Sum();
            foreach (var doc in group.OrderBy(d => Rank(d.DocumentId, seed), StringComparer.Ordinal))
            {
                total++;
                // Ties go to the side listed first (train), so a class's first document trains the model.
                var side = targets.OrderByDescending(t => t.Share * total - counts[t.Side]).ThenBy(t => Array.IndexOf(targets, t)).First().Side;
                counts[side]++;
                result.Add(new SplitAssignment(doc.DocumentId, group.Key, side));
            }
        }
        return result;
    }

    private static string Rank(string documentId, int seed) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}:{documentId}")));
}

using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Dsdc.Tests.Ui;

/// <summary>axe-core (bundled by Deque.AxeCore.Playwright) run in the tests' own Chromium.</summary>
public static class Accessibility
{
    /// <summary>Fails with every serious or critical violation on the page: rule, help and the elements concerned.</summary>
    public static async Task AssertNoSeriousViolationsAsync(IPage page)
    {
        var result = await page.RunAxe();
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, $"{page.Url}: " + string.Join("\n", serious.Select(v =>
            $"{v.Impact} {v.Id}: {v.Help} at {string.Join(" | ", v.Nodes.Take(5).Select(n => n.Html))}")));
    }
}

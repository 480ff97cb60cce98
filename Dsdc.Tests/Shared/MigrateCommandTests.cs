using Dsdc.Tests.Infrastructure;

namespace Dsdc.Tests.Shared;

public sealed class MigrateCommandTests
{
    [Fact]
    public async Task TheMigrateCommandAppliesEverythingThenReportsUpToDate()
    {
        await using var db = await TestDatabase.CreateAsync();
        using var data = new ScratchFolder("dsdc-cli-");
        var env = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Dsdc"] = db.ConnectionString,
            ["Dsdc__DataDir"] = data.Path,
            ["Auth__SigningKey"] = DsdcAppFactory.NewSigningKey(),
        };

        var first = await AppProcess.RunAsync(["migrate"], env);
        var second = await AppProcess.RunAsync(["migrate"], env);

        Assert.True(first.ExitCode == 0, first.StdErr);
        Assert.Contains("Applied", first.StdOut);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("Database is up to date", second.StdOut);
    }
}

using Dsdc.Shared.Jobs;
using Dsdc.Tests.Infrastructure;
using Dsdc.Tests.Reliability;
using Microsoft.Extensions.Configuration;

namespace Dsdc.Tests.Shared;

/// <summary>The binary started by hand with wrong settings: it stops at once and names the key to fix.</summary>
public sealed class ConfigurationTests
{
    private static Dictionary<string, string?> ValidEnvironment() => new()
    {
        ["ConnectionStrings__Dsdc"] = "Host=127.0.0.1;Port=1;Database=none;Username=none;Timeout=1",
        ["Dsdc__DataDir"] = Path.Combine(Path.GetTempPath(), "dsdc-config-test"),
        ["Database__StartupWaitSeconds"] = "0",
        ["Auth__SigningKey"] = DsdcAppFactory.NewSigningKey(),
    };

    [Fact]
    public async Task AMissingConnectionStringIsRefusedWithTheKeyToSet()
    {
        var env = ValidEnvironment();
        env.Remove("ConnectionStrings__Dsdc");

        var result = await AppProcess.RunAsync(["migrate"], env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ConnectionStrings:Dsdc is missing", result.StdErr);
        Assert.Contains("ConnectionStrings__Dsdc", result.StdErr);
    }

    [Fact]
    public async Task AMalformedConnectionStringIsRefused()
    {
        var env = ValidEnvironment();
        env["ConnectionStrings__Dsdc"] = "Hots=oops;;Colour=blue";

        var result = await AppProcess.RunAsync(["migrate"], env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ConnectionStrings:Dsdc is not a valid PostgreSQL connection string", result.StdErr);
    }

    [Theory]
    [InlineData("Jobs__WorkerCount", "0", "Jobs:WorkerCount")]
    [InlineData("Dsdc__ModelsDir", "", "Dsdc:ModelsDir")]
    [InlineData("Database__StartupWaitSeconds", "-5", "Database:StartupWaitSeconds")]
    [InlineData("Pipeline__Cron", "every 3 minutes", "Pipeline:Cron")]
    [InlineData("Training__NewLabelsCron", "61 * * * *", "Training:NewLabelsCron")]
    [InlineData("Inference__PredictNewDocumentsCron", "*/5 * * *", "Inference:PredictNewDocumentsCron")]
    [InlineData("Pipeline__MockArrivals__Count", "0", "Pipeline:MockArrivals:Count")]
    [InlineData("Training__Candidates__0", "fused-tvx", "Training:Candidates names an unknown recipe 'fused-tvx'")]
    public async Task AnInvalidSettingStopsTheAppNamingTheKey(string variable, string value, string key)
    {
        var env = ValidEnvironment();
        env[variable] = value;

        var result = await AppProcess.RunAsync(["migrate"], env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Configuration error", result.StdErr);
        Assert.Contains(key, result.StdErr);
    }

    /// <summary>Two sections wrong at once: both named, exit code 2, no stack trace (the start-up validation gathers them).</summary>
    [Fact]
    public async Task TwoInvalidSectionsAreBothNamed()
    {
        var env = ValidEnvironment();
        env["Jobs__WorkerCount"] = "0";
        env["Pipeline__Cron"] = "every 3 minutes";

        var result = await AppProcess.RunAsync(["migrate"], env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Configuration error", result.StdErr);
        Assert.Contains("Jobs:WorkerCount", result.StdErr);
        Assert.Contains("Pipeline:Cron", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public async Task AnUnknownQueueIsRefused()
    {
        var env = ValidEnvironment();
        env["Jobs__Queues__0"] = "gpu";

        var result = await AppProcess.RunAsync([], env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Jobs:Queues names an unknown queue 'gpu'", result.StdErr);
    }

    /// <summary>
    /// The queues a process works on, read as the app reads them: the repository's appsettings.json under the overrides
    /// compose gives a worker. Configuration binding appends to an array's existing items, so a list in appsettings.json
    /// or a default in the options class would stay under the worker's three and hand it the training queue too.
    /// </summary>
    [Theory]
    [InlineData(new string[0], new[] { "default", "ocr", "embedding", "training" })]
    [InlineData(new[] { "ocr", "embedding", "default" }, new[] { "ocr", "embedding", "default" })]
    [InlineData(new[] { "ocr", "ocr", "ocr" }, new[] { "ocr" })]
    [InlineData(new[] { "training" }, new[] { "training" })]
    public void AWorkerWorksOnExactlyTheQueuesItIsGiven(string[] overrides, string[] expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(OwnPostgres.RepoRoot, "appsettings.json"), optional: false)
            .AddInMemoryCollection(overrides.Select((q, i) => new KeyValuePair<string, string?>($"Jobs:Queues:{i}", q)))
            .Build();

        var options = configuration.GetSection(JobsOptions.Section).Get<JobsOptions>() ?? new JobsOptions();

        Assert.Equal(expected, options.EffectiveQueues);
    }

    [Theory]
    [InlineData(new string[0], new[] { "fused-tvrc", "fused-tvc" })]
    [InlineData(new[] { "fused-tv" }, new[] { "fused-tv" })]
    [InlineData(new[] { "fused-t", "fused-t" }, new[] { "fused-t" })]
    public void TheCandidatesAreExactlyThoseGivenOverTheRealAppSettings(string[] overrides, string[] expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(OwnPostgres.RepoRoot, "appsettings.json"), optional: false)
            .AddInMemoryCollection(overrides.Select((c, i) => new KeyValuePair<string, string?>($"Training:Candidates:{i}", c)))
            .Build();

        var options = configuration.GetSection(Dsdc.Training.TrainingOptions.Section).Get<Dsdc.Training.TrainingOptions>() ?? new();

        Assert.Equal(expected, options.CandidateNames);
    }

    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "worker" }, false)]
    [InlineData(new[] { "worker", "--Jobs:ManageSchedules=true" }, true)]
    [InlineData(new[] { "--Jobs:Server=false" }, false)]
    [InlineData(new[] { "--Jobs:Server=False", "--Jobs:ManageSchedules=true" }, true)]
    [InlineData(new[] { "--Jobs:Server=true" }, true)]
    public void OnlyTheAppSetsTheSharedSchedulesUnlessAWorkerIsToldTo(string[] args, bool manages)
    {
        var configuration = Dsdc.Shared.Hosting.DsdcHost.CreateBuilder(args).Configuration;

        var options = configuration.GetSection(JobsOptions.Section).Get<JobsOptions>() ?? new JobsOptions();

        Assert.Equal(manages, options.ManageSchedules);
    }

    [Theory]
    [InlineData(new[] { "train", "--runs", "abc" }, "train: --runs needs a whole number of at least 0, not 'abc'")]
    [InlineData(new[] { "train", "--epochs", "0" }, "train: --epochs needs a whole number of at least 1, not '0'")]
    [InlineData(new[] { "train", "--epochs" }, "train: --epochs needs a value")]
    public async Task AWrongCommandLineValueIsRefusedWithTheCommandsUsage(string[] args, string message)
    {
        var env = ValidEnvironment();
        env["Database__MigrateOnStart"] = "false";

        var result = await AppProcess.RunAsync(args, env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.StdErr);
        Assert.Contains("Usage: train [--runs N] [--epochs N]", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr); // no stack trace
    }

    /// <summary>
    /// A setting the configuration binder cannot convert (a word where a number goes) is a configuration error like any
    /// other: exit code 2 and the key to fix, never an unhandled exception's stack trace. Jobs:WorkerCount is read while
    /// the modules register, the others by the start-up validation.
    /// </summary>
    [Theory]
    [InlineData("Jobs__WorkerCount", "auto", "Jobs:WorkerCount must be a whole number")]
    [InlineData("Ocr__PageTimeoutSeconds", "2m", "Ocr:PageTimeoutSeconds must be a whole number")]
    [InlineData("Database__MigrateOnStart", "yes", "Database:MigrateOnStart must be true or false")]
    public async Task ASettingOfTheWrongTypeStopsTheAppNamingTheKey(string variable, string value, string message)
    {
        var env = ValidEnvironment();
        env[variable] = value;

        var result = await AppProcess.RunAsync(["migrate"], env);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Configuration error", result.StdErr);
        Assert.Contains(message, result.StdErr);
        Assert.Contains($"(environment variable {variable})", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    /// <summary>
    /// Asking for help runs nothing and needs no database: `--help` lists the commands instead of starting the server,
    /// `train --help` prints train's usage instead of training (the database here is unreachable, so anything that
    /// tried to reach it would fail), and the list comes even on a machine with no connection string set, or where
    /// Tesseract cannot start (here a language it has no data for: the same check as a missing libtesseract), which
    /// still stops a command that would run.
    /// </summary>
    [Fact]
    public async Task AskingForHelpRunsNothingAndNeedsNoDatabase()
    {
        var env = ValidEnvironment();
        var unset = ValidEnvironment();
        unset.Remove("ConnectionStrings__Dsdc");
        var noTesseract = ValidEnvironment();
        noTesseract["Ocr__Languages"] = "zzz";

        var list = await AppProcess.RunAsync(["--help"], env);
        var listWithoutSettings = await AppProcess.RunAsync(["help"], unset);
        var serverHelp = await AppProcess.RunAsync(["--urls", "http://127.0.0.1:1", "-h"], env);
        var trainHelp = await AppProcess.RunAsync(["train", "--help"], env);
        var helpTrain = await AppProcess.RunAsync(["help", "train"], unset);
        var listWithoutTesseract = await AppProcess.RunAsync(["help"], noTesseract);
        var trainHelpWithoutTesseract = await AppProcess.RunAsync(["train", "--help"], noTesseract);
        var trainWithoutTesseract = await AppProcess.RunAsync(["train"], noTesseract);

        foreach (var r in new[] { list, listWithoutSettings, serverHelp, listWithoutTesseract })
        {
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("Commands:", r.StdOut);
            Assert.Contains("import", r.StdOut);
        }
        foreach (var r in new[] { trainHelp, helpTrain, trainHelpWithoutTesseract })
        {
            Assert.Equal(0, r.ExitCode);
            Assert.StartsWith("Usage: train [--runs N] [--epochs N] [--if-changed]", r.StdOut);
            Assert.DoesNotContain("Configuration error", r.StdErr);
            Assert.DoesNotContain("   at ", r.StdErr);
        }
        Assert.DoesNotContain("Configuration error", listWithoutTesseract.StdErr);
        Assert.Equal(2, trainWithoutTesseract.ExitCode);
        Assert.Contains("Ocr:Languages: Tesseract could not load language(s) 'zzz'", trainWithoutTesseract.StdErr);
    }

    /// <summary>A misspelt option stops the command before it does anything (here `--run` for `--runs`: the job would
    /// otherwise train without the runs asked for), with the command's usage; a declared option's value is not read as
    /// an option, whatever it looks like.</summary>
    [Fact]
    public async Task AnOptionTheCommandDoesNotKnowIsRefusedBeforeItRuns()
    {
        var mistyped = await AppProcess.RunAsync(["train", "--run", "5"], ValidEnvironment());
        var evaluate = await AppProcess.RunAsync(["evaluate", "/tmp", "--csv"], ValidEnvironment());

        Assert.Equal(2, mistyped.ExitCode);
        Assert.Contains("train has no option --run", mistyped.StdErr);
        Assert.Contains("Usage: train [--runs N]", mistyped.StdErr);
        Assert.DoesNotContain("   at ", mistyped.StdErr);
        Assert.Equal(2, evaluate.ExitCode);
        Assert.Contains("evaluate has no option --csv", evaluate.StdErr);

        var models = new OptionsOf(["--reason TEXT", "--limit N"]);
        Assert.Null(Dsdc.Shared.Hosting.DsdcHost.UnknownOption(models, ["promote", "3", "--reason", "--not-an-option"]));
        Assert.Null(Dsdc.Shared.Hosting.DsdcHost.UnknownOption(models, ["list", "--limit", "5", "--", "--file"]));
        Assert.Equal("--limits", Dsdc.Shared.Hosting.DsdcHost.UnknownOption(models, ["list", "--limits", "5"]));
        Assert.Null(Dsdc.Shared.Hosting.DsdcHost.UnknownOption(new OptionsOf(null), ["--anything"]));
        // Settings for the run, which the host's configuration reads, are not options.
        Assert.Null(Dsdc.Shared.Hosting.DsdcHost.UnknownOption(models, ["list", "--Pipeline:Parallelism=2", "--Ocr:Languages", "eng", "--limit", "3"]));
        Assert.True(Dsdc.Shared.Hosting.DsdcHost.AsksForHelp(["predict", "a.tif", "-h"]));
        Assert.False(Dsdc.Shared.Hosting.DsdcHost.AsksForHelp(["predict", "--", "-h"]));
    }

    private sealed class OptionsOf(IReadOnlyList<string>? options) : Dsdc.Shared.Cli.ICliCommand
    {
        public string Name => "probe";
        public string Usage => "";
        public IReadOnlyList<string>? Options => options;
        public Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct) => Task.FromResult(0);
    }

    [Fact]
    public async Task AnUnknownCommandPrintsTheUsage()
    {
        var result = await AppProcess.RunAsync(["frobnicate"], ValidEnvironment());

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Usage: Dsdc.Web", result.StdErr);
        Assert.Contains("migrate", result.StdErr);
    }
}

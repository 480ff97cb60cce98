using System.Text.RegularExpressions;

namespace Dsdc.Tests.Deployment;

/// <summary>Cheap checks of the Dockerfile (no Docker engine here): stages, packages, user, port, health check, inputs.</summary>
public sealed partial class DockerfileTests
{
    private static readonly string Dockerfile = RepositoryFiles.Read("Dockerfile").Replace("\\\n", " ", StringComparison.Ordinal);

    [GeneratedRegex(@"(?m)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", RegexOptions.IgnoreCase)]
    private static partial Regex FromLine();

    [GeneratedRegex(@"(?m)^COPY\s+(?!--from)(.+)$")]
    private static partial Regex CopyFromContext();

    /// <summary>The text of the last stage: what the runtime image is made of.</summary>
    private static string RuntimeStage => Dockerfile[FromLine().Matches(Dockerfile)[^1].Index..];

    [Fact]
    public void TheImageIsBuiltWithTheSdkAndRunsOnTheAspNetRuntime()
    {
        var stages = FromLine().Matches(Dockerfile);

        Assert.True(stages.Count >= 2, "a multi-stage build");
        Assert.Contains("dotnet/sdk:", stages[0].Groups[1].Value);
        Assert.Contains("dotnet/aspnet:", stages[^1].Groups[1].Value);
        Assert.Matches($@"COPY --from={Regex.Escape(stages[0].Groups[2].Value)}\s", RuntimeStage);
    }

    [Fact]
    public void TheRuntimeImageHasTesseractWithEnglishAndMuPdf()
    {
        foreach (var package in new[] { "tesseract-ocr", "tesseract-ocr-eng", "libtesseract5", "mupdf-tools" })
            Assert.Matches($@"apt-get install[^\n]*\s{Regex.Escape(package)}(\s|$)", RuntimeStage);
    }

    [Fact]
    public void TheRuntimeImageRunsAsANonRootUserOnPort8080AndChecksReadiness()
    {
        var user = Regex.Match(RuntimeStage, @"(?m)^USER\s+(\S+)");

        Assert.True(user.Success, "USER in the runtime stage");
        Assert.DoesNotMatch("^(root|0)(:.*)?$", user.Groups[1].Value);
        Assert.Matches(@"(?m)^EXPOSE\s+8080\b", RuntimeStage);
        Assert.Contains("ASPNETCORE_URLS=http://+:8080", RuntimeStage);
        Assert.Matches(@"(?m)^HEALTHCHECK\s.*CMD\s.*http://127\.0\.0\.1:8080/health/ready", RuntimeStage);
        Assert.Matches(@"(?m)^VOLUME\s.*/app/data.*/app/models", RuntimeStage);
    }

    [Fact]
    public void EveryFileTheBuildCopiesExistsAndIsNotExcludedByDockerignore()
    {
        var ignoredTopLevel = IgnoredTopLevel();
        var sources = CopyFromContext().Matches(Dockerfile)
            .SelectMany(m => m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1))
            .ToList();

        Assert.NotEmpty(sources);
        foreach (var source in sources)
        {
            var path = source.TrimEnd('/');
            var dir = Path.GetDirectoryName(path) is { Length: > 0 } d ? RepositoryFiles.PathOf(d) : RepositoryFiles.Root;
            var found = Directory.Exists(RepositoryFiles.PathOf(path)) || Directory.EnumerateFiles(dir, Path.GetFileName(path)).Any();
            Assert.True(found, $"the Dockerfile copies {source}, which does not exist");
            Assert.DoesNotContain(path.Split('/')[0], ignoredTopLevel);
        }
    }

    [Fact]
    public void EverythingTheAppsProjectsUseIsInTheBuildContext()
    {
        var ignoredTopLevel = IgnoredTopLevel();
        var pending = new Queue<string>(["Dsdc.Web/Dsdc.Web.csproj"]);
        var seen = new HashSet<string>();
        while (pending.TryDequeue(out var project))
        {
            if (!seen.Add(project)) continue;
            Assert.DoesNotContain(project.Split('/')[0], ignoredTopLevel);
            var dir = RepositoryFiles.PathOf(Path.GetDirectoryName(project)!);
            var text = RepositoryFiles.Read(project);
            // Files outside the project's folder (Include="../sql/*.sql", Project="../x.targets") must travel too.
            foreach (Match m in Regex.Matches(text, @"(?:Include|Project)=""(\.\.[/\\][^""]+)"""))
            {
                var relative = Path.GetRelativePath(RepositoryFiles.Root, Path.GetFullPath(Path.Combine(dir, m.Groups[1].Value.Replace('\\', '/'))));
                Assert.DoesNotContain(relative.Split('/')[0], ignoredTopLevel);
            }
            foreach (Match reference in Regex.Matches(text, @"<ProjectReference\s+Include=""([^""]+)"""))
                pending.Enqueue(Path.GetRelativePath(RepositoryFiles.Root, Path.GetFullPath(Path.Combine(dir, reference.Groups[1].Value.Replace('\\', '/')))));
        }
        Assert.Contains("Dsdc.Modules/Dsdc.Modules.csproj", seen);
    }

    private static HashSet<string> IgnoredTopLevel() =>
        RepositoryFiles.Read(".dockerignore").Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith('/'))
            .Select(l => l.Trim('/'))
            .ToHashSet();
}

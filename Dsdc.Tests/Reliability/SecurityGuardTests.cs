using System.Net;
using System.Text.RegularExpressions;
using Dsdc.Auth;
using Dsdc.Tests.Auth;
using Dsdc.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace Dsdc.Tests.Reliability;

/// <summary>
/// Security checks not covered elsewhere. Covered elsewhere: JWT tampering (Auth/TamperingTests), throttling
/// (Auth/ThrottleTests), /hangfire for anonymous / user / model-admin (Monitoring/DashboardAccessTests), roles
/// (Auth/RoleTests), predict upload limit 413 (Api/PredictErrorTests).
/// </summary>
public sealed partial class SecurityGuardTests
{
    private static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Dsdc.sln"))) dir = dir.Parent;
            return dir?.FullName ?? "/work/main";
        }
    }

    /// <summary>
    /// Interpolation holes reviewed as SQL-safe: compile-time constants of their class, of <c>CurrentLabel</c> (the current-label rule)
    /// or <c>TrainingStore.StoredInputsOf</c> (the stored inputs of the views), an int, or (UserStore) a column
    /// assignment chosen from constants. A new hole in SQL text fails this test until it is reviewed and added here.
    /// </summary>
    private static readonly HashSet<string> ReviewedHoles =
        ["ImageMissing", "TextMissing", "Columns", "DocumentKey", "Schema", "Dimensions", "dimensions", "assignment", "sql",
         "CurrentLabel.JoinOnDocument", "CurrentLabel.LookupOnDocument", "CurrentLabel.View", "TrainingStore.StoredInputsOf"];

    [Fact]
    public void SqlIsNeverBuiltFromInterpolatedValues()
    {
        var sqlWord = SqlKeyword();
        var offenders = new List<string>();
        foreach (var file in new[] { "Dsdc.Modules", "Dsdc.Web" }.SelectMany(d =>
                     Directory.EnumerateFiles(Path.Combine(RepoRoot, d), "*.cs", SearchOption.AllDirectories))
                     .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")))
        {
            var text = File.ReadAllText(file);
            // Holes naming a compile-time constant of the same file are fixed SQL text, not values.
            var constants = ConstName().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();
            foreach (Match literal in InterpolatedLiteral().Matches(text))
            {
                if (!sqlWord.IsMatch(literal.Value)) continue;
                foreach (Match hole in Hole().Matches(literal.Value))
                {
                    var expr = hole.Groups[1].Value.Split(':', ',')[0].Trim();
                    if (!ReviewedHoles.Contains(expr) && !constants.Contains(expr))
                        offenders.Add($"{Path.GetRelativePath(RepoRoot, file)}:{text[..literal.Index].Count(c => c == '\n') + 1}: {{{expr}}}");
                }
            }
        }
        Assert.True(offenders.Count == 0, "SQL built with interpolated values (use @parameters):\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void TheGuardCatchesInterpolatedSql()
    {
        const string bad = "var sql = $\"SELECT * FROM users WHERE name = '{name}'\";";
        var literal = InterpolatedLiteral().Match(bad);
        Assert.True(literal.Success && SqlKeyword().IsMatch(literal.Value));
        Assert.Equal("name", Hole().Match(literal.Value).Groups[1].Value);
    }

    [GeneratedRegex("\\$+@?\"\"\"[\\s\\S]*?\"\"\"|\\$+@?\"(?:[^\"\\\\\\n]|\\\\.)*\"")]
    private static partial Regex InterpolatedLiteral();

    [GeneratedRegex("\\b(SELECT|INSERT INTO|UPDATE [a-z_.]+ SET|DELETE FROM|CREATE (TABLE|INDEX|SCHEMA)|DROP (TABLE|SCHEMA)|ALTER TABLE|TRUNCATE)\\b")]
    private static partial Regex SqlKeyword();

    [GeneratedRegex("const (?:string|int) (\\w+)")]
    private static partial Regex ConstName();

    [GeneratedRegex("(?<!\\{)\\{([^{}\"]+)\\}(?!\\})")]
    private static partial Regex Hole();
}

/// <summary>The running app: user input in routes and names, admin endpoints, headers, and what the log never shows.</summary>
[Collection(LogCollection.Name)]
public sealed class SecurityAppTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string DbPassword = "db-secret-Zq81xv";

    private sealed class App : AuthApp
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
        {
            // Trust authentication ignores it; it must still never reach the log.
            ["ConnectionStrings:Dsdc"] = Database.ConnectionString + ";Password=" + DbPassword,
        };
    }

    [Fact]
    public async Task SecretsNeverReachTheLogAtStartupOrTokenIssuance()
    {
        await using var app = new App();
        await app.InitializeAsync();
        using var client = app.CreateClient();
        var token = await client.GetTokenAsync(AuthApp.AdminName, app.AdminPassword);
        (await client.RequestTokenAsync(AuthApp.AdminName, app.AdminPassword + "-wrong")).Dispose();
        (await client.RequestTokenAsync("nobody", "guess-" + app.AdminPassword)).Dispose();
        await Task.Delay(200, Ct);

        var log = string.Join("\n", app.Log.Lines);
        Assert.NotEmpty(app.Log.Lines);
        foreach (var (what, secret) in new[] { ("signing key", app.SigningKey), ("admin password", app.AdminPassword),
                     ("database password", DbPassword), ("issued token", token), ("token signature", token.Split('.')[2]) })
            Assert.False(log.Contains(secret, StringComparison.Ordinal), $"the {what} is in the log");
    }

    [Theory]
    [InlineData("..%2F..%2Fetc%2Fpasswd")]
    [InlineData("..")]
    [InlineData("%2E%2E")]
    [InlineData("..%5C..%5Cwindows")]
    [InlineData("-rf")]
    public async Task TraversalLookingDocumentIdsAreJustUnknownIds(string id)
    {
        await using var app = new App();
        await app.InitializeAsync();
        using var client = await app.CreateClientWithRoleAsync(Roles.User);

        using var label = await client.PostAsync($"/api/v1/documents/{id}/label",
            new StringContent("{\"label\":3}", System.Text.Encoding.UTF8, "application/json"), Ct);
        using var similar = await client.GetAsync($"/api/v1/documents/{id}/similar", Ct);

        foreach (var r in new[] { label, similar })
            Assert.True((int)r.StatusCode is 400 or 404 or 405, $"{r.RequestMessage!.RequestUri}: {(int)r.StatusCode}");
        Assert.Empty(Directory.EnumerateFiles(app.DataDir, "passwd", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AdminEndpointsAreClosedToAnonymousAndPlainUsers()
    {
        await using var app = new App();
        await app.InitializeAsync();
        using var anonymous = app.CreateClient(new() { AllowAutoRedirect = false });
        using var user = await app.CreateClientWithRoleAsync(Roles.User);
        (string Method, string Path)[] endpoints =
            [("GET", "/hangfire"), ("GET", "/api/v1/models/"), ("POST", "/api/v1/models/1/promote"), ("POST", "/api/v1/models/rollback"),
             ("POST", "/api/v1/models/reload")];
        foreach (var (method, path) in endpoints)
        {
            using var a = await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);
            using var u = await user.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);
            Assert.True(a.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Found or HttpStatusCode.Redirect,
                $"anonymous {method} {path}: {(int)a.StatusCode}");
            Assert.True(u.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized, $"user {method} {path}: {(int)u.StatusCode}");
        }
    }

    [Fact]
    public async Task TheLoginPageCarriesSecurityHeaders()
    {
        await using var app = new App();
        await app.InitializeAsync();
        using var client = app.CreateClient(new() { AllowAutoRedirect = false });

        using var response = await client.GetAsync("/login", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.NotNull(Header(response, "Referrer-Policy"));
        var csp = Header(response, "Content-Security-Policy") ?? "";
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
    }

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) || r.Content.Headers.TryGetValues(name, out v) ? string.Join(",", v) : null;
}

using System.Net;
using System.Text;
using CsCheck;
using Dapper;
using Dsdc.Auth;
using Dsdc.Shared;
using Dsdc.Tests.Api;
using Dsdc.Tests.Auth;
using Npgsql;
using static Dsdc.Tests.Hardening.HardeningRequests;

namespace Dsdc.Tests.Hardening;

/// <summary>
/// Generated inputs (CsCheck) against the real app and PostgreSQL: the label parser, the multipart handling, upload file
/// names and the documents search. Thousands of inputs in all, bounded in time so that the class takes about a minute in
/// CI (<see cref="Budget"/>; <c>DSDC_PROPERTY_SECONDS</c> to run longer). Properties: never a 5xx, and never a label
/// stored that was not sent as a JSON integer from 0 to 15. A failure prints the seed that reproduces it.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class PropertyTests(ApiApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Seconds each property runs at most (CsCheck's time limit; the iteration count bounds it too).</summary>
    private static int Budget => int.TryParse(Environment.GetEnvironmentVariable("DSDC_PROPERTY_SECONDS"), out var s) && s > 0 ? s : 12;

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    // Characters that have broken parsers and databases before: NUL and other controls, quotes, escapes, LIKE wildcards,
    // separators, non-ASCII, and unpaired surrogates (which UTF-8 cannot encode).
    private static readonly Gen<char> Nasty = Gen.OneOf(
        Gen.Char['\0', '\x1f'], Gen.Char[' ', '~'], Gen.OneOf('%', '_', '\\', '\'', '"', '/', '.', ';', '\u00e9', '\u4e2d', '\u202e', '\ufeff', '\ud800', '\udc00'),
        Gen.Char);

    private static readonly Gen<string> NastyString = Nasty.Array[0, 40].Select(a => new string(a));

    /// <summary>A JSON value for "label": integers in and out of range, their string forms, fractions, other types, junk.</summary>
    private static readonly Gen<(string Json, int? Valid)> LabelBody = Gen.OneOf(
        Gen.Int[-5, 25].Select(i => ($$"""{"label":{{i}}}""", i is >= 0 and <= 15 ? (int?)i : null)),
        Gen.Int.Select(i => ($$"""{"label":{{i}}}""", i is >= 0 and <= 15 ? (int?)i : null)),
        Gen.Int[-5, 25].Select(i => ($$"""{"label":"{{i}}"}""", (int?)null)),
        Gen.Double.Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Select(t => ($$"""{"label":{{t}}}""",
            int.TryParse(t, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var i) && i is >= 0 and <= 15 ? (int?)i : null)),
        Gen.Const(("""{"label":-0}""", (int?)0)),
        Gen.OneOf("""{}""", """{"label":null}""", """{"label":true}""", """{"label":[1]}""", """{"label":{"v":1}}""", """{"label":1e9}""",
            """{"label":7.0}""", """{"label":0x7}""", """{"label":07}""", """[]""", """ """, """{"label":""", """{"Label":3,"label":"x"}""")
            .Select(s => (s, (int?)null)),
        NastyString.Select(s => ("{\"label\":" + System.Text.Json.JsonSerializer.Serialize(s) + "}", (int?)null)),
        NastyString.Select(s => (s, (int?)null)));

    [Fact]
    public async Task TheLabelParserStoresExactlyTheIntegerLabelsFrom0To15AndAnswersEverythingElseWith4xx()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var id = await app.ScalarAsync<string>("SELECT id FROM ingestion.original_documents ORDER BY id DESC LIMIT 1");
        var count = 0;

        await LabelBody.SampleAsync(async body =>
        {
            var before = await HumanLabelsAsync(id);
            var response = await client.PostAsync($"/api/v1/documents/{id}/label", new StringContent(body.Json, Encoding.UTF8, "application/json"), Ct);
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"{body.Json}: {status}");
            var after = await HumanLabelsAsync(id);
            if (body.Valid is { } label)
            {
                Assert.True(status == 201, $"{body.Json}: {status}");
                Assert.Equal(before + 1, after);
                Assert.Equal(label, await app.ScalarAsync<int>(
                    "SELECT label FROM ingestion.labels WHERE document_id = @id AND source = 'human' ORDER BY id DESC LIMIT 1", new { id }));
            }
            else
            {
                Assert.True(status is >= 400 and < 500, $"{body.Json}: {status}");
                Assert.Equal(before, after);
            }
            Interlocked.Increment(ref count);
        }, writeLine: Log, iter: 3000, time: Budget, threads: 1, print: b => b.Json);

        Log($"{count} label bodies");
        Assert.True(count >= 100, $"only {count} inputs ran");
    }

    /// <summary>A multipart body: valid, then cut, corrupted or mislabelled in the ways clients get it wrong.</summary>
    private static readonly Gen<(byte[] Body, string ContentType)> MultipartBody =
        Gen.Select(Gen.Byte.Array[0, 300], NastyString, Gen.Int[0, 6], Gen.Int[0, 400], Gen.Byte,
            (file, name, mutation, cut, flip) =>
            {
                var boundary = "gEn" + (name.Length % 7);
                var disposition = $"form-data; name=\"file\"; filename*=UTF-8''{PercentEncode(name)}";
                var bytes = Encoding.UTF8.GetBytes($"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .Concat(file).Concat(Encoding.UTF8.GetBytes($"\r\n--{boundary}--\r\n")).ToArray();
                var type = $"multipart/form-data; boundary={boundary}";
                switch (mutation)
                {
                    case 1: bytes = bytes[..Math.Min(cut, bytes.Length)]; break;                     // truncated anywhere
                    case 2: if (bytes.Length > 0) bytes[cut % bytes.Length] ^= (byte)(flip | 1); break; // one byte changed
                    case 3: type = "multipart/form-data"; break;                                         // no boundary
                    case 4: type = $"multipart/form-data; boundary=\"{name.Replace("\"", "")}\""; break;  // another boundary
                    case 5: bytes = file; break;                                                          // not multipart
                    case 6: type = "multipart/form-data; boundary=" + new string('b', 80 + cut); break;  // over-long boundary
                }
                return (bytes, type);
            });

    [Fact]
    public async Task NoMultipartBodyOrFileNameGetsA5xx()
    {
        using var client = await app.CreateClientWithRoleAsync(Roles.User);
        var count = 0;

        await MultipartBody.SampleAsync(async body =>
        {
            var response = await client.PostAsync("/api/v1/predict", RawBody(body.Body, body.ContentType), Ct);
            // 503 "busy" is the overload answer, not an error; anything else from 500 up is.
            var status = (int)response.StatusCode;
            Assert.True(status < 500 || (status == 503 && response.Headers.RetryAfter is not null), $"{status} for {body.ContentType}");
            if (status >= 400 && status != 503)
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Interlocked.Increment(ref count);
        }, writeLine: Log, iter: 3000, time: Budget, threads: 1,
            print: b => $"{b.ContentType} [{b.Body.Length}] {Convert.ToBase64String(b.Body[..Math.Min(120, b.Body.Length)])}");

        Log($"{count} multipart bodies");
        Assert.True(count >= 100, $"only {count} inputs ran");
    }

    [Fact]
    public async Task AnyClientFileNameIsStoredCleanOrReplacedAndPostgresAcceptsIt()
    {
        await using var conn = new NpgsqlConnection(app.Database.ConnectionString);
        await conn.OpenAsync(Ct);
        var count = 0;

        await NastyString.SampleAsync(async name =>
        {
            var clean = TextInput.Name(name);
            Assert.DoesNotContain(clean, char.IsControl);
            Assert.Equal(clean, TextInput.Name(clean));
            var fileName = Path.GetFileName(clean);
            // What DocumentIntake stores goes through PostgreSQL text and comes back unchanged.
            Assert.Equal(fileName, await conn.ExecuteScalarAsync<string>("SELECT @fileName::text", new { fileName }));
            Assert.Equal(TextInput.ForDatabase(name), await conn.ExecuteScalarAsync<string>("SELECT @q::text", new { q = TextInput.ForDatabase(name) }));
            Interlocked.Increment(ref count);
        }, writeLine: Log, iter: 5000, time: Budget, threads: 1);

        Log($"{count} names");
        Assert.True(count >= 1000, $"only {count} inputs ran");
    }

    [Fact]
    public async Task NoSearchTextGetsA5xx()
    {
        var name = $"prop-{Guid.NewGuid():N}"[..20];
        var password = await app.CreateUserAsync(name, Roles.User);
        using var browser = app.CreateClient();
        await browser.LogInWithCookieAsync(name, password);
        var count = 0;
        // Text as a browser would send it (UTF-8, percent-encoded), and raw bytes that are not UTF-8 at all.
        var query = Gen.OneOf(NastyString.Select(s => PercentEncode(s)), Gen.Byte.Array[0, 30].Select(b => string.Concat(b.Select(x => $"%{x:X2}"))));

        await query.SampleAsync(async q =>
        {
            var response = await browser.GetAsync("/documents?q=" + q, Ct);
            Assert.True((int)response.StatusCode < 500, $"q={q}: {(int)response.StatusCode}");
            Interlocked.Increment(ref count);
        }, writeLine: Log, iter: 3000, time: Budget, threads: 1);

        Log($"{count} searches");
        Assert.True(count >= 100, $"only {count} inputs ran");
    }

    private Task<long> HumanLabelsAsync(string id) =>
        app.ScalarAsync<long>("SELECT count(*) FROM ingestion.labels WHERE document_id = @id AND source = 'human'", new { id });

    /// <summary>UTF-8 percent-encoding that, unlike Uri.EscapeDataString, accepts unpaired surrogates (as U+FFFD, like browsers).</summary>
    private static string PercentEncode(string s) =>
        string.Concat(new UTF8Encoding(false, false).GetBytes(s).Select(b => b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
            ? ((char)b).ToString() : $"%{b:X2}"));
}

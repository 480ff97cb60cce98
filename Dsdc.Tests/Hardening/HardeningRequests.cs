using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dsdc.Tests.Hardening;

/// <summary>Hand-made requests of the hardening tests: raw multipart bodies, UI form posts with their antiforgery token.</summary>
internal static partial class HardeningRequests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A multipart body written byte by byte, so that it can be wrong in any way a client can make it wrong.</summary>
    public static ByteArrayContent RawBody(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    /// <summary>One file part with this Content-Disposition tail, e.g. <c>filename="a.png"</c>, and a closing boundary.</summary>
    public static ByteArrayContent FilePart(byte[] file, string dispositionTail, string field = "file", string boundary = "b0undary", bool close = true)
    {
        using var body = new MemoryStream();
        body.Write(Encoding.UTF8.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; {dispositionTail}\r\n" +
            "Content-Type: application/octet-stream\r\n\r\n"));
        body.Write(file);
        if (close) body.Write(Encoding.UTF8.GetBytes($"\r\n--{boundary}--\r\n"));
        return RawBody(body.ToArray(), $"multipart/form-data; boundary={boundary}");
    }

    /// <summary>The antiforgery token of the first form on a UI page (the client's cookie container keeps its cookie).</summary>
    public static async Task<string> FormTokenAsync(HttpClient client, string path)
    {
        var html = await client.GetStringAsync(path, Ct);
        return TokenInput().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value)
            : throw new InvalidOperationException($"no antiforgery token on {path}");
    }

    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.TryGetProperty("type", out var type) && type.GetString() is { Length: > 0 }, $"no type: {body}");
    }

    public static MediaTypeHeaderValue OctetStream => new("application/octet-stream");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenInput();
}

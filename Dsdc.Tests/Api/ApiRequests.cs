using System.Net.Http.Headers;

namespace Dsdc.Tests.Api;

internal static class ApiRequests
{
    public static MultipartFormDataContent File(byte[] bytes, string fileName, string field = "file")
    {
        var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(file, field, fileName);
        return content;
    }

    public static MultipartFormDataContent File(string path) => File(System.IO.File.ReadAllBytes(path), Path.GetFileName(path));

    /// <summary>The response's JSON body.</summary>
    public static async Task<System.Text.Json.JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return System.Text.Json.JsonDocument.Parse(text).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> PredictAsync(this HttpClient client, HttpContent content) =>
        client.PostAsync("/api/v1/predict", content, TestContext.Current.CancellationToken);
}

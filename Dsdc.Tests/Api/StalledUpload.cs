using System.Net;
using System.Net.Http.Headers;

namespace Dsdc.Tests.Api;

/// <summary>A multipart body sent in two halves: the second once <c>release</c> completes.</summary>
internal sealed class StalledUpload : HttpContent
{
    private readonly byte[] _body;
    private readonly Task _release;
    private readonly TaskCompletionSource _halfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private StalledUpload(byte[] body, MediaTypeHeaderValue? type, Task release)
    {
        _body = body;
        _release = release;
        Headers.ContentType = type;
    }

    public Task HalfSent => _halfSent.Task;

    public static async Task<StalledUpload> CreateAsync(MultipartFormDataContent form, Task release)
    {
        using (form) return new StalledUpload(await form.ReadAsByteArrayAsync(TestContext.Current.CancellationToken), form.Headers.ContentType, release);
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var half = _body.Length / 2;
        await stream.WriteAsync(_body.AsMemory(0, half));
        await stream.FlushAsync();
        _halfSent.TrySetResult();
        await _release;
        await stream.WriteAsync(_body.AsMemory(half));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }
}

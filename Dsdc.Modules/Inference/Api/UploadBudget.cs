using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Dsdc.Inference.Api;

/// <summary>
/// The bytes of uploads being received at once, by the API and the pages together (<c>Api:MaxUploadBytesInFlight</c>).
/// ASP.NET Core keeps an uploaded file over 64 KiB in a temporary file until its request ends, so without a bound many
/// uploads at once, or a few large batches, could fill the volume that the temporary folder shares with the documents
/// and often the database. An upload reserves its declared length (its route's limit when it declares none, as a
/// chunked request does) before a byte of its body is read, and gives it back when its request ends; one that does not
/// fit is answered 503 with Retry-After at once, and nothing of it is read, stored or recorded.
/// </summary>
public sealed class UploadBudget(IOptions<PredictionApiOptions> options)
{
    private long _reserved;

    /// <summary>The bytes reserved by the uploads under way.</summary>
    public long Reserved => Interlocked.Read(ref _reserved);

    /// <summary>
    /// Reserves what <paramref name="request"/> may send (its Content-Length, at most <paramref name="routeLimit"/>) until
    /// the request ends; false when the uploads under way leave too little room.
    /// </summary>
    public bool TryReserve(HttpRequest request, long routeLimit)
    {
        var bytes = request.ContentLength is { } length ? Math.Clamp(length, 0, routeLimit) : routeLimit;
        var limit = options.Value.MaxUploadBytesInFlight;
        while (true)
        {
            var now = Interlocked.Read(ref _reserved);
            if (now + bytes > limit) return false;
            if (Interlocked.CompareExchange(ref _reserved, now + bytes, now) == now) break;
        }
        // The form's temporary files are deleted as the request ends: the bytes are given back then too.
        request.HttpContext.Response.RegisterForDispose(new Reservation(this, bytes));
        return true;
    }

    private sealed class Reservation(UploadBudget budget, long bytes) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) Interlocked.Add(ref budget._reserved, -bytes);
        }
    }
}

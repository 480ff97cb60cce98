using System.Globalization;
using Dsdc.Ingestion;
using Dsdc.Pipeline;

namespace Dsdc.Inference.Api;

/// <summary>
/// The <c>next</c> value of a page of <c>GET /api/v1/documents</c>: the last document's moment (microseconds since
/// 1970, the database's own precision) and id, as <c>{microseconds}.{id}</c>. Clients pass it back unchanged as
/// <c>after</c>; its form may change between versions.
/// </summary>
public static class ListCursor
{
    public static string Write(ListPosition position) =>
        string.Create(CultureInfo.InvariantCulture, $"{(position.IngestedAt.ToUniversalTime() - DateTime.UnixEpoch).Ticks / 10}.{position.Id}");

    public static bool TryRead(string text, out ListPosition? position)
    {
        position = null;
        var dot = text.IndexOf('.');
        if (dot <= 0 || !long.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var micros)) return false;
        var id = text[(dot + 1)..];
        // Within the range PostgreSQL's timestamptz and DateTime share (years 1970 to 9999).
        if (!PageImages.IsDocumentId(id) || micros > (DateTime.MaxValue - DateTime.UnixEpoch).Ticks / 10) return false;
        position = new ListPosition(DateTime.UnixEpoch.AddTicks(micros * 10), id);
        return true;
    }
}

using System.Globalization;

namespace LokiSharp.Querier.Logs;

/// <summary>
/// Where a page of a paginated log query stopped: the timestamp of its last entry and how many entries with that
/// timestamp the pages so far returned. Entries are paged in a total order (time in the query's direction, then
/// stream labels, then the stream's own order), so the next page starts at that timestamp and skips that many.
/// Its text form, <c>&lt;unix ns&gt;:&lt;count&gt;</c>, is opaque to clients.
/// </summary>
public readonly record struct LogCursor(long Timestamp, int Skip)
{
    /// <summary>The token a response carries.</summary>
    public override string ToString() =>
        string.Concat(Timestamp.ToString(CultureInfo.InvariantCulture), ":", Skip.ToString(CultureInfo.InvariantCulture));

    /// <summary>Reads a token made by <see cref="ToString"/>.</summary>
    public static bool TryParse(string text, out LogCursor cursor)
    {
        cursor = default;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0
            || !long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp)
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var skip))
        {
            return false;
        }

        cursor = new LogCursor(timestamp, skip);
        return true;
    }
}

/// <summary>LokiSharp's opt-in additions to log queries; the default adds nothing and changes nothing.</summary>
public sealed record LogQueryExtras
{
    /// <summary>No extras: the query behaves exactly as Loki's.</summary>
    public static LogQueryExtras None { get; } = new();

    /// <summary>Whether the result carries a cursor for the next page (always true when <see cref="After"/> is set).</summary>
    public bool Paginate { get; init; }

    /// <summary>Where the previous page stopped; null for the first page.</summary>
    public LogCursor? After { get; init; }

    /// <summary>Lines of the same stream to return before (older than) each match.</summary>
    public int ContextBefore { get; init; }

    /// <summary>Lines of the same stream to return after (newer than) each match.</summary>
    public int ContextAfter { get; init; }

    /// <summary>Whether context lines are asked for.</summary>
    public bool WantsContext => ContextBefore > 0 || ContextAfter > 0;
}

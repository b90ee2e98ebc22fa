using LokiSharp.Querier.Responses;

namespace LokiSharp.Querier.Logs;

/// <summary>The lines of a log query in output order, plus warnings and statistics.</summary>
public sealed class LogQueryResult
{
    public List<ResultEntry> Entries { get; } = [];

    /// <summary>Corrupt or unreadable data skipped while reading, for the response's <c>warnings</c>.</summary>
    public QueryWarnings Warnings { get; init; } = new();

    public QueryStatistics Stats { get; } = new();

    /// <summary>Whether the query was paginated, so the response carries <see cref="Next"/> (null once exhausted).</summary>
    public bool Paginated { get; set; }

    /// <summary>Where the next page starts; null when this page is the last.</summary>
    public LogCursor? Next { get; set; }
}

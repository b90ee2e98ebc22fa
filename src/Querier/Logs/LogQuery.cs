using LokiSharp.LogQL.Ast;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Logs;

/// <summary>
/// A log query as <see cref="LogQueryEngine"/> runs it: <see cref="Selector"/> over <c>[Start, End)</c> (Unix ns) for
/// <see cref="Tenant"/>, at most <see cref="Limit"/> lines in <see cref="Direction"/>.
/// </summary>
public sealed record LogQuery(string Tenant, LogSelectorExpr Selector, long Start, long End, int Limit, Direction Direction)
{
    /// <summary>At most one line per this many nanoseconds (Loki's <c>interval</c>); 0 returns every line.</summary>
    public long Interval { get; init; }

    /// <summary>LokiSharp's opt-in additions (a pagination cursor, context lines); none by default.</summary>
    public LogQueryExtras Extras { get; init; } = LogQueryExtras.None;
}

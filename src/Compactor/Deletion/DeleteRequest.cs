using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.Compactor.Deletion;

/// <summary>Where a delete request stands, as Loki's API prints it.</summary>
public enum DeleteRequestStatus
{
    /// <summary>Accepted, not yet applied to stored chunks (<c>received</c>).</summary>
    Received,

    /// <summary>Applied to every stored chunk (<c>processed</c>).</summary>
    Processed,
}

/// <summary>
/// A request to delete a tenant's entries matching a selector (optionally with line filters) in a time range.
/// Times are Unix milliseconds, Loki's precision; the range is inclusive at both ends.
/// </summary>
public sealed class DeleteRequest
{
    private LogSelectorExpr? _parsed;

    /// <summary>Id returned to the client and used to cancel.</summary>
    public required string RequestId { get; init; }

    /// <summary>Owning tenant.</summary>
    public required string Tenant { get; init; }

    /// <summary>The LogQL selector with optional line filters.</summary>
    public required string Query { get; init; }

    /// <summary>First deleted instant, Unix ms.</summary>
    public required long StartMs { get; init; }

    /// <summary>Last deleted instant, Unix ms (inclusive).</summary>
    public required long EndMs { get; init; }

    /// <summary>When the request was received, Unix ms.</summary>
    public required long CreatedAtMs { get; init; }

    /// <summary>Received or processed.</summary>
    public DeleteRequestStatus Status { get; set; }

    /// <summary>First deleted instant, Unix ns.</summary>
    public long StartNs => StartMs * 1_000_000L;

    /// <summary>Last deleted instant, Unix ns (inclusive).</summary>
    public long EndNs => EndMs * 1_000_000L;

    /// <summary>The parsed query (parsed once, on first use).</summary>
    public LogSelectorExpr Selector => _parsed ??= LogQLParser.ParseLogSelector(Query);

    /// <summary>The stream matchers of the query.</summary>
    public IReadOnlyList<LabelMatcher> Matchers => Selector switch
    {
        MatchersExpr m => m.Matchers,
        PipelineExpr p => p.Selector.Matchers,
        _ => [],
    };

    /// <summary>Whether the query has stages (line filters): then only matching lines are deleted.</summary>
    public bool HasFilters => Selector is PipelineExpr { Stages.Count: > 0 };

    /// <summary>Whether the request targets this stream.</summary>
    public bool MatchesStream(LabelSet labels)
    {
        foreach (var m in Matchers)
        {
            if (!m.Matches(labels.Get(m.Name) ?? string.Empty))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether the request covers any of <c>[fromNs, throughNs]</c> (inclusive).</summary>
    public bool Overlaps(long fromNs, long throughNs) => StartNs <= throughNs && EndNs >= fromNs;

    /// <summary>A fresh (not thread-safe) compiled pipeline of the query's stages.</summary>
    public LogPipeline CompilePipeline() => LogPipeline.Compile(Selector);
}

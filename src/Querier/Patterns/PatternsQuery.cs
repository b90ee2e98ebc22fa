using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Patterns;

/// <summary>
/// <c>/loki/api/v1/patterns</c>: mines the newest lines of the selected streams in the range (at most
/// <see cref="MaxLines"/>, which bounds time and memory) and counts each pattern's lines per step. The lines and the
/// per-step counts are reserved in <paramref name="memory"/>; skipped corrupt data goes to <paramref name="warnings"/>.
/// </summary>
public sealed class PatternsQuery(IReadOnlyList<ILogSource> sources, QueryMemoryBudget? memory = null, QueryWarnings? warnings = null)
{
    /// <summary>Lines mined per request at most.</summary>
    public const int MaxLines = 20_000;

    /// <summary>The patterns of <paramref name="selector"/>'s lines in <c>[start, end)</c>.</summary>
    public List<MinedPattern> Patterns(string tenant, LogSelectorExpr selector, long start, long end, long stepNs, CancellationToken cancellationToken)
    {
        var result = new LogQueryEngine(sources, memory, warnings)
            .Select(new LogQuery(tenant, selector, start, end, MaxLines, Direction.Backward), cancellationToken);
        var miner = new PatternMiner(stepNs, memory);
        for (var i = result.Entries.Count - 1; i >= 0; i--)
        {
            var entry = result.Entries[i];
            var level = entry.Labels.All.Get("detected_level") ?? entry.Labels.All.Get("level") ?? "unknown";
            miner.Add(entry.Timestamp, entry.Line, level);
        }

        return miner.Patterns();
    }
}

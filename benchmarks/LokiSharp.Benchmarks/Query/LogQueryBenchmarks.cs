using BenchmarkDotNet.Attributes;
using LokiSharp.Benchmarks.Push;
using LokiSharp.Benchmarks.Storage;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Logs;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Benchmarks.Query;

/// <summary>
/// A log query as Grafana's Explore sends it (limit 1000, newest first) over the ingester's head and the chunk
/// store together: <see cref="Streams"/> streams whose older <see cref="StoredEntriesPerStream"/> entries were
/// pushed and flushed to the store, and whose newest <see cref="HeadEntriesPerStream"/> are still in the head, so
/// the merge crosses from head to store. One op is one query: stream selection in both sources, the merge with
/// de-duplication, the pipeline, and the result entries.
/// </summary>
[MemoryDiagnoser]
public class LogQueryBenchmarks
{
    private const int Limit = 1000;

    private TempIngester _ingester = null!;
    private LogSelectorExpr _all = null!;
    private LogSelectorExpr _filtered = null!;
    private long _start;
    private long _end;

    /// <summary>Streams matched by the queries.</summary>
    [Params(16)]
    public int Streams { get; set; } = 16;

    /// <summary>Entries per stream in the chunk store.</summary>
    [Params(1000)]
    public int StoredEntriesPerStream { get; set; } = 1000;

    /// <summary>Entries per stream still in the head.</summary>
    [Params(25)]
    public int HeadEntriesPerStream { get; set; } = 25;

    [GlobalSetup]
    public void Setup()
    {
        _ingester = new TempIngester();
        // Lines are under 256 bytes, so this is more than enough of them.
        var lines = SyntheticLogs.Generate(Streams * (StoredEntriesPerStream + HeadEntriesPerStream) * 256);

        // From an hour ago, a millisecond apart per stream: well inside the accepted window.
        _start = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000) * 1_000_000;
        var next = 0;
        Push(lines, ref next, StoredEntriesPerStream);
        _ingester.FlushAll();
        Push(lines, ref next, HeadEntriesPerStream);
        _end = _start + ((StoredEntriesPerStream + HeadEntriesPerStream) * 1_000_000L) + 1;

        _all = LogQLParser.ParseLogSelector("{namespace=\"jewelry-shop\"}");
        _filtered = LogQLParser.ParseLogSelector("{namespace=\"jewelry-shop\"} |= \"status=500\" | logfmt | level=\"error\"");
    }

    [GlobalCleanup]
    public void Cleanup() => _ingester.Dispose();

    /// <summary>Every line: the newest 1000 come from the head and the store's newest chunks.</summary>
    [Benchmark]
    public int SelectBackward() => Select(_all).Entries.Count;

    /// <summary>A line filter, a parser and a label filter: scans most of the store for the matches.</summary>
    [Benchmark]
    public int SelectFilteredBackward() => Select(_filtered).Entries.Count;

    private LogQueryResult Select(LogSelectorExpr selector) =>
        new LogQueryEngine([_ingester.Ingester, _ingester.Store])
            .Select(new LogQuery(TempIngester.Tenant, selector, _start, _end, Limit, Direction.Backward), CancellationToken.None);

    private void Push(List<(long Ts, byte[] Line)> lines, ref int next, int entriesPerStream)
    {
        using var batch = new PushBatch(1 << 20);
        var first = next;
        for (var s = 0; s < Streams; s++)
        {
            batch.BeginStream($"{{app=\"app-{s % 4}\", namespace=\"jewelry-shop\", pod=\"pod-{s}\"}}");
            for (var i = 0; i < entriesPerStream; i++)
            {
                batch.AddEntry(_start + ((first + i) * 1_000_000L) + s, lines[(s * (StoredEntriesPerStream + HeadEntriesPerStream)) + first + i].Line);
            }
        }

        next = first + entriesPerStream;
        _ingester.PushAsync(batch).GetAwaiter().GetResult();
    }
}

using System.Buffers;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Cache;
using LokiSharp.Querier.Detected;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Metadata;
using LokiSharp.Querier.Metrics;
using LokiSharp.Querier.Patterns;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Tests;

/// <summary>
/// What protects a query's answer and the process: skipped corrupt data is reported as a warning by every read
/// path (log, metric, detected fields, patterns) rather than hidden, and a query that would hold more than its
/// memory budget fails instead of growing.
/// </summary>
public sealed class QueryGuardsTests
{
    private const long Second = 1_000_000_000L;
    private const long Start = 1_700_000_000L * Second;
    private const string Tenant = "fake";
    private static readonly LabelSet App = LabelSet.From(("app", "api"));

    [Fact]
    public void Every_read_path_warns_about_a_corrupt_chunk_and_counts_what_the_good_ones_hold()
    {
        var source = new MemorySource();
        source.Add(App, Lines(0, 300, 40));
        source.Add(App, Lines(300, 200, 40), corrupt: true);
        IReadOnlyList<ILogSource> sources = [source];

        var logs = new LogQueryEngine(sources).Select(new LogQuery(Tenant, Selector("{app=\"api\"}"), Start, Start + (3600 * Second), 5000, Direction.Backward), CancellationToken.None);
        Assert.Equal(300, logs.Entries.Count);
        var warning = Assert.Single(logs.Warnings.ToList());
        Assert.StartsWith("skipped corrupt chunk in memory #1: ", warning, StringComparison.Ordinal);

        var warnings = new QueryWarnings();
        var stats = new QueryStatistics();
        var evaluator = new MetricQueryEvaluator(new StoredSampleSource(sources, Tenant, stats, warnings), new MetricQueryLimits { MaxParallelism = 2 });
        var vector = (VectorResult)evaluator.Evaluate((SampleExpr)LogQLParser.Parse("sum(count_over_time({app=\"api\"}[1h]))"),
            MetricQueryParameters.Instant(Start + (3599 * Second)));
        Assert.Equal(300, Assert.Single(vector.Samples).Value);
        Assert.Equal([warning], warnings.ToList());

        var detected = new QueryWarnings();
        Assert.NotEmpty(new DetectedFieldsQuery(sources, null, detected).Fields(Tenant, Selector("{app=\"api\"}"), Start, Start + (3600 * Second), 1000, 100, CancellationToken.None));
        Assert.Equal([warning], detected.ToList());

        var patterns = new QueryWarnings();
        Assert.NotEmpty(new PatternsQuery(sources, null, patterns).Patterns(Tenant, Selector("{app=\"api\"}"), Start, Start + (3600 * Second), 60 * Second, CancellationToken.None));
        Assert.Equal([warning], patterns.ToList());
    }

    [Fact]
    public void Damage_a_source_knows_of_before_reading_is_a_warning_of_log_and_metric_queries()
    {
        var source = new MemorySource { Damage = "index table index_19675 is damaged, chunks it lists may be missing: index_19675.g1.idx: bad" };
        source.Add(App, Lines(0, 10, 40));
        IReadOnlyList<ILogSource> sources = [source];

        var logs = new LogQueryEngine(sources).Select(new LogQuery(Tenant, Selector("{app=\"api\"}"), Start, Start + (3600 * Second), 100, Direction.Backward), CancellationToken.None);
        Assert.Equal([source.Damage], logs.Warnings.ToList());

        var warnings = new QueryWarnings();
        new MetricQueryEvaluator(new StoredSampleSource(sources, Tenant, new QueryStatistics(), warnings))
            .Evaluate((SampleExpr)LogQLParser.Parse("count_over_time({app=\"api\"}[1h])"), MetricQueryParameters.Instant(Start + (3599 * Second)));
        Assert.Equal([source.Damage], warnings.ToList());
    }

    [Fact]
    public void Warnings_are_kept_once_each_and_capped()
    {
        var warnings = new QueryWarnings();
        warnings.AddRange(["a", "b", "a"]);
        warnings.Add("b");
        Assert.Equal(["a", "b"], warnings.ToList());
        for (var i = 0; i < 150; i++)
        {
            warnings.Add("w" + i);
        }

        warnings.Add("w149");
        var list = warnings.ToList();
        Assert.Equal(QueryWarnings.MaxWarnings + 1, list.Count);
        Assert.Equal("52 more warnings left out", list[^1]);
        Assert.Equal(152, warnings.Count);
    }

    [Fact]
    public void A_range_evaluated_over_skipped_data_is_not_cached()
    {
        var cache = new MetricResultsCache(new EmbeddedCacheLimits(1 << 20, 100, TimeSpan.FromHours(1)));
        var request = new RangeQueryRequest(Tenant, "q", Start, Start + (600 * Second), 60 * Second, Start + (7200 * Second), 0, 0, 500);
        MatrixResult Evaluate(long from, long through) => new([new MetricSeries(App, [new MetricPoint(from / 1_000_000, 1)])]);

        cache.Evaluate(request, Evaluate, new CacheStatistics(), () => false);
        Assert.Equal(0, cache.Count);
        cache.Evaluate(request, Evaluate, new CacheStatistics(), () => true);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void A_log_query_holding_too_many_lines_fails_and_a_smaller_one_passes()
    {
        var source = new MemorySource();
        source.Add(App, Lines(0, 2000, 10_000));
        IReadOnlyList<ILogSource> sources = [source];

        var budget = new QueryMemoryBudget(4L << 20);
        var error = Assert.Throws<QueryMemoryLimitException>(() => new LogQueryEngine(sources, budget)
            .Select(new LogQuery(Tenant, Selector("{app=\"api\"}"), Start, Start + (3600 * Second), 5000, Direction.Backward), CancellationToken.None));
        Assert.Equal(4L << 20, error.LimitBytes);

        var small = new QueryMemoryBudget(4L << 20);
        var result = new LogQueryEngine(sources, small)
            .Select(new LogQuery(Tenant, Selector("{app=\"api\"}"), Start, Start + (3600 * Second), 50, Direction.Backward), CancellationToken.None);
        Assert.Equal(50, result.Entries.Count);
        Assert.InRange(small.ReservedBytes, 50 * 3 * 10_000L, 50 * 4 * 10_000L);

        // Context lines are held too.
        Assert.Throws<QueryMemoryLimitException>(() => new LogQueryEngine(sources, new QueryMemoryBudget(4L << 20))
            .Select(new LogQuery(Tenant, Selector("{app=\"api\"} |= \"never\""), Start, Start + (3600 * Second), 50, Direction.Backward)
            {
                Extras = new LogQueryExtras { ContextBefore = 1000, ContextAfter = 1000 },
            }, CancellationToken.None));
    }

    [Fact]
    public void Metadata_answers_are_bounded()
    {
        var source = new MemorySource();
        for (var i = 0; i < 3000; i++)
        {
            source.Add(LabelSet.From(("app", "api"), ("pod", "pod-" + i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture))), Lines(0, 1, 10));
        }

        IReadOnlyList<ILogSource> sources = [source];
        var end = Start + (3600 * Second);
        Assert.Throws<QueryMemoryLimitException>(() => new MetadataQueries(sources, new QueryMemoryBudget(256 * 1024)).Series(Tenant, [], Start, end));
        Assert.Throws<QueryMemoryLimitException>(() => new MetadataQueries(sources, new QueryMemoryBudget(128 * 1024)).LabelValues(Tenant, "pod", [], Start, end));
        Assert.Equal(3000, new MetadataQueries(sources, new QueryMemoryBudget(4L << 20)).Series(Tenant, [], Start, end).Count);
        Assert.Equal(3000, new MetadataQueries(sources, new QueryMemoryBudget(4L << 20)).LabelValues(Tenant, "pod", [], Start, end).Count);
    }

    private static LogSelectorExpr Selector(string query) => (LogSelectorExpr)LogQLParser.Parse(query);

    private static List<(long Ts, string Line)> Lines(int firstSecond, int count, int width) =>
        [.. Enumerable.Range(firstSecond, count).Select(i => (Start + (i * Second), $"level=info msg=served n={i} pad=" + new string('x', Math.Max(0, width - 40))))];

    /// <summary>Streams of encoded chunks held in memory, some of which can be damaged.</summary>
    private sealed class MemorySource : ILogSource
    {
        private readonly Dictionary<LabelSet, List<ReadOnlyMemory<byte>>> _chunks = [];

        public string? Damage { get; init; }

        public IReadOnlyList<string> KnownDamage(string tenant, long from, long through) => Damage is null ? [] : [Damage];

        public void Add(LabelSet labels, List<(long Ts, string Line)> entries, bool corrupt = false)
        {
            using var builder = new ChunkBuilder(ChunkEncoding.Snappy, targetBlockSize: 1 << 20);
            foreach (var (ts, line) in entries)
            {
                builder.Append(ts, line);
            }

            var output = new ArrayBufferWriter<byte>();
            builder.Finish(output);
            var bytes = output.WrittenMemory.ToArray();
            if (corrupt)
            {
                bytes[^1] ^= 0xFF;
            }

            if (!_chunks.TryGetValue(labels, out var list))
            {
                _chunks[labels] = list = [];
            }

            list.Add(bytes);
        }

        public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
            [.. _chunks.Keys.Where(l => matchers.All(m => m.Matches(l.Get(m.Name) ?? ""))).Select(l => new SelectedStream(l, 0))];

        public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query) =>
            ChunkEntryReader.Open(_chunks[stream.Labels], query);

        public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
            [.. _chunks.Keys.SelectMany(l => l.Select(p => p.Name)).Distinct()];

        public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
            [.. _chunks.Keys.Select(l => l.Get(name)).OfType<string>().Distinct()];

        public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
            throw new NotSupportedException();

        public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
            throw new NotSupportedException();
    }
}

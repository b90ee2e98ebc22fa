using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Metrics;

namespace LokiSharp.Querier.Tests;

/// <summary>
/// Metric queries read from encoded chunks through <see cref="StoredSampleSource"/>: the evaluation on several
/// threads gives byte-for-byte the JSON of the evaluation on one, duplicates between sources are dropped, and limits
/// and cancellation still stop the work.
/// </summary>
public sealed class StoredSampleSourceTests
{
    private const long Second = 1_000_000_000L;
    private const long Start = 1_700_000_000L * Second;
    private const long End = Start + (20 * 60 * Second);
    private const string Tenant = "fake";

    private static readonly Lazy<(ChunkSource Store, ChunkSource Head)> Data = new(Build);

    public static TheoryData<string, bool> Queries() => new()
    {
        { "sum by (pod) (rate({namespace=\"shop\"}[1m]))", false },
        { "count_over_time({namespace=\"shop\"}[90s])", false },
        { "count_over_time({namespace=\"shop\"}[20s])", false },
        { "sum(count_over_time({namespace=\"shop\"} |= \"declined\" [3h]))", true },
        { "sum by (app) (count_over_time({namespace=\"shop\"} |~ \"(?i)timeout\" [3h]))", true },
        { "sum by (level) (count_over_time({app=\"django\"} | json | status >= 500 [3h]))", true },
        { "avg by (task) (avg_over_time({app=\"celery\"} | logfmt | unwrap duration(runtime) [5m]))", false },
        { "sum by (app) (sum_over_time({namespace=\"shop\"} | logfmt | unwrap duration(runtime) [2m]))", false },
        { "first_over_time({namespace=\"shop\"} | logfmt | unwrap duration(runtime) [2m]) by (app)", false },
        { "last_over_time({namespace=\"shop\"} | logfmt | unwrap duration(runtime) [2m]) by (namespace)", false },
        { "quantile_over_time(0.9, {app=\"celery\"} | logfmt | unwrap duration(runtime) [5m]) by (task)", false },
        { "stddev_over_time({app=\"celery\"} | logfmt | unwrap duration(runtime) [3m] offset 1m)", false },
        { "bytes_rate({namespace=\"shop\"}[1m])", false },
        { "sum by (status) (count_over_time({app=\"nginx\"} | pattern \"<_> \\\"<_> <_> <_>\\\" <status> <_>\" [5m]))", false },
        { "sum by (app) (bytes_over_time({namespace=\"shop\"} | logfmt [5m]))", false },
        { "topk(3, sum by (pod) (count_over_time({namespace=\"shop\"}[5m])))", true },
        { "sum by (app) (rate({namespace=\"shop\"}[1m])) / on (app) group_left sum by (app) (rate({namespace=\"shop\"}[5m]))", false },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void Parallel_evaluation_gives_the_same_json_as_serial(string query, bool instant)
    {
        var serial = Json(query, instant, parallelism: 1);
        var parallel = Json(query, instant, parallelism: 4);
        Assert.Equal(serial, parallel);
        Assert.Contains("\"value", serial, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public void Entries_read_in_runs_give_the_same_json_and_statistics_as_one_by_one(string query, bool instant)
    {
        // Runs end inside blocks (where the other source's next entry is older), at ties with it, and at block ends.
        var runStats = new QueryStatistics();
        PassThroughSource[] counted = [new(Data.Value.Store, runs: true), new(Data.Value.Head, runs: true)];
        var runs = MetricQueryJson.Of(new StoredSampleSource(counted, Tenant, runStats), runStats, query, Parameters(instant),
            new MetricQueryLimits { MaxQuerySeries = 0 });
        var oneStats = new QueryStatistics();
        var oneByOne = MetricQueryJson.Of(new StoredSampleSource([new PassThroughSource(Data.Value.Store), new PassThroughSource(Data.Value.Head)], Tenant, oneStats),
            oneStats, query, Parameters(instant), new MetricQueryLimits { MaxQuerySeries = 0 });
        Assert.True(counted.Sum(source => source.RunsTaken) > 0, "no run was taken");
        Assert.Equal(oneByOne, runs);
        Assert.Equal((oneStats.Duplicates, oneStats.TotalLinesProcessed, oneStats.TotalBytesProcessed, oneStats.PostFilterLines),
            (runStats.Duplicates, runStats.TotalLinesProcessed, runStats.TotalBytesProcessed, runStats.PostFilterLines));
    }

    [Fact]
    public void Counts_every_line_once_though_two_sources_hold_some()
    {
        var result = Evaluate("sum(count_over_time({namespace=\"shop\"}[3h]))", instant: true, parallelism: 4, out var stats, time: End);
        var sample = Assert.Single(((VectorResult)result).Samples);
        Assert.Equal(TotalLines, sample.Value);
        Assert.Equal(HeadCopies, stats.Duplicates);
        Assert.Equal(TotalLines, stats.TotalLinesProcessed);
    }

    [Fact]
    public void Bare_selector_counts_match_a_filtered_pipeline_that_keeps_everything()
    {
        // The bare selector reads timestamps only; a line filter no line fails forces the extractor over the same lines.
        var bare = Json("count_over_time({namespace=\"shop\"}[1m])", false, 4);
        var piped = Json("count_over_time({namespace=\"shop\"} != \"never-logged\" [1m])", false, 4);
        Assert.Equal(MetricQueryJson.Result(bare), MetricQueryJson.Result(piped));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Series_limit_fails_with_lokis_text(int parallelism)
    {
        var e = Assert.Throws<MetricQueryException>(() => Evaluate("count_over_time({namespace=\"shop\"}[1m])", false, parallelism, out _,
            new MetricQueryLimits { MaxQuerySeries = 3, MaxParallelism = parallelism }));
        Assert.StartsWith("maximum number of series (3) reached for a single query", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Cancelled_query_stops(int parallelism)
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var expr = (SampleExpr)LogQLParser.Parse("sum by (pod) (rate({namespace=\"shop\"}[1m]))");
        var evaluator = new MetricQueryEvaluator(Source(new QueryStatistics()), new MetricQueryLimits { MaxParallelism = parallelism });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            evaluator.Evaluate(expr, MetricQueryParameters.Range(Start, End, 60 * Second), cancelled.Token));
    }

    private static int TotalLines => Streams * LinesPerStream;

    private static int HeadCopies => 4 * (LinesPerStream / 4);

    private const int Streams = 12;
    private const int LinesPerStream = 900;

    private static string Json(string query, bool instant, int parallelism)
    {
        var stats = new QueryStatistics();
        return MetricQueryJson.Of(Source(stats), stats, query, Parameters(instant), new MetricQueryLimits { MaxQuerySeries = 0, MaxParallelism = parallelism });
    }

    private static MetricResult Evaluate(string query, bool instant, int parallelism, out QueryStatistics stats, MetricQueryLimits? limits = null, long? time = null)
    {
        stats = new QueryStatistics();
        var evaluator = new MetricQueryEvaluator(Source(stats), limits ?? new MetricQueryLimits { MaxQuerySeries = 0, MaxParallelism = parallelism });
        return evaluator.Evaluate((SampleExpr)LogQLParser.Parse(query), Parameters(instant, time));
    }

    private static MetricQueryParameters Parameters(bool instant, long? time = null) =>
        instant ? MetricQueryParameters.Instant(time ?? Start + (10 * 60 * Second)) : MetricQueryParameters.Range(Start, End, 60 * Second);

    private static StoredSampleSource Source(QueryStatistics stats) => new([Data.Value.Store, Data.Value.Head], Tenant, stats);

    /// <summary>
    /// Twelve streams in three apps, lines at irregular intervals (several streams share timestamps), with logfmt and
    /// JSON payloads; the head repeats the last quarter of four streams, as a flush briefly leaves them in both.
    /// </summary>
    private static (ChunkSource, ChunkSource) Build()
    {
        var store = new ChunkSource();
        var head = new ChunkSource();
        var random = new Random(11);
        string[] apps = ["django", "celery", "nginx"];
        string[] tasks = ["send_mail", "charge", "resize", "sync"];
        for (var s = 0; s < Streams; s++)
        {
            var app = apps[s % apps.Length];
            var labels = LabelSet.From(("app", app), ("namespace", "shop"), ("pod", $"{app}-{s / 3}"), ("stream", s.ToString()));
            var entries = new List<(long, string)>();
            var ts = Start - (6 * 60 * Second);
            for (var i = 0; i < LinesPerStream; i++)
            {
                ts += (i % 7 == 0 ? 0 : random.Next(1, 3)) * Second + (s % 2 == 0 ? 0 : random.Next(0, 3));
                var status = random.Next(0, 10) == 0 ? 503 : 200;
                var line = app switch
                {
                    "django" => $"{{\"level\":\"{(status >= 500 ? "error" : "info")}\",\"status\":{status},\"msg\":\"payment {(i % 13 == 0 ? "declined" : "ok")}\",\"id\":{i}}}",
                    "celery" => $"level=info task={tasks[random.Next(tasks.Length)]} runtime={random.Next(1, 4000)}ms msg=\"done{(i % 17 == 0 ? " Timeout" : "")}\" id={i}",
                    _ => $"10.0.0.{s} - - \"GET /api/{i % 5} HTTP/1.1\" {status} {random.Next(100, 900)} runtime=0.{random.Next(1, 999)}s id={i}",
                };
                entries.Add((ts, line));
            }

            store.Add(labels, entries[..(LinesPerStream / 2)]);
            store.Add(labels, entries[(LinesPerStream / 2)..]);
            if (s % 3 == 0)
            {
                head.Add(labels, entries[(LinesPerStream - (LinesPerStream / 4))..]);
            }
        }

        return (store, head);
    }
}

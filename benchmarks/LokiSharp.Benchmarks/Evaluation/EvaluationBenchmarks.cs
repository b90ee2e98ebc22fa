using BenchmarkDotNet.Attributes;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.Benchmarks.Evaluation;

/// <summary>Samples held in arrays; each sample may carry its own label set (a parsed, high-cardinality label).</summary>
internal sealed class ArraySampleSource(IReadOnlyList<(LabelSet[] Labels, long[] Timestamps, double[] Values)> streams) : ISampleSource
{
    public IReadOnlyList<ISampleCursor> Select(SampleSelection selection, CancellationToken cancellationToken) =>
        [.. streams.Select(s => new ArrayCursor(s.Labels, s.Timestamps, s.Values))];

    private sealed class ArrayCursor(LabelSet[] labels, long[] timestamps, double[] values) : ISampleCursor
    {
        private int _index = -1;

        public long TimestampNs => timestamps[_index];

        public double Value => values[_index];

        public LabelSet Labels => labels.Length == 1 ? labels[0] : labels[_index];

        public bool MoveNext() => ++_index < timestamps.Length;

        public void Dispose()
        {
        }
    }
}

/// <summary>
/// Window evaluators over two hours at a 60 s step: a per-stream rate summed by pod (50 streams, one line a second
/// each: 360k samples), and the unique-label case: an average over time where every sample is its own series
/// (100k samples with a distinct <c>id</c>), averaged again by task. Each on one thread and on two.
/// </summary>
[MemoryDiagnoser]
public class WindowEvaluatorBenchmarks
{
    private const long Second = 1_000_000_000L;
    private const long Start = 1_700_000_000L * Second;
    private const long End = Start + (2 * 3600 * Second);

    private ArraySampleSource _streams = null!;
    private ArraySampleSource _uniqueSeries = null!;
    private SampleExpr _sumRate = null!;
    private SampleExpr _avgOfAvg = null!;
    private SampleExpr _quantile = null!;

    /// <summary>Threads reading the cursors (<see cref="MetricQueryLimits.MaxParallelism"/>).</summary>
    [Params(1, 2)]
    public int Parallelism { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var streams = new List<(LabelSet[], long[], double[])>();
        for (var s = 0; s < 50; s++)
        {
            var labels = LabelSet.From(("namespace", "shop"), ("pod", "pod-" + (s % 10)), ("container", "c" + s));
            var count = 7200;
            var ts = new long[count];
            var values = new double[count];
            for (var i = 0; i < count; i++)
            {
                ts[i] = Start - (5 * 60 * Second) + (i * Second) + s;
                values[i] = 1;
            }

            streams.Add(([labels], ts, values));
        }

        _streams = new ArraySampleSource(streams);

        var random = new Random(7);
        var unique = new List<(LabelSet[], long[], double[])>();
        for (var s = 0; s < 4; s++)
        {
            var count = 25_000;
            var labels = new LabelSet[count];
            var ts = new long[count];
            var values = new double[count];
            for (var i = 0; i < count; i++)
            {
                labels[i] = LabelSet.From(("app", "celery"), ("task", "task-" + (i % 20)), ("id", s + "-" + i));
                ts[i] = Start - (5 * 60 * Second) + (long)(i * (7500.0 / count) * Second);
                values[i] = random.NextDouble() * 3;
            }

            unique.Add((labels, ts, values));
        }

        _uniqueSeries = new ArraySampleSource(unique);
        _sumRate = (SampleExpr)LogQLParser.Parse("sum by (pod) (rate({namespace=\"shop\"}[1m]))");
        _avgOfAvg = (SampleExpr)LogQLParser.Parse("avg by (task) (avg_over_time({app=\"celery\"} | logfmt | unwrap duration(runtime) [5m]))");
        _quantile = (SampleExpr)LogQLParser.Parse("quantile_over_time(0.99, {namespace=\"shop\"} | unwrap latency [5m]) by (pod)");
    }

    [Benchmark]
    public MetricResult SumByPodOfRate() => Evaluate(_streams, _sumRate);

    [Benchmark]
    public MetricResult AvgByTaskOfAvgOverTimeUniqueSeries() => Evaluate(_uniqueSeries, _avgOfAvg);

    [Benchmark]
    public MetricResult QuantileOverTimeByPod() => Evaluate(_streams, _quantile);

    private MetricResult Evaluate(ArraySampleSource source, SampleExpr expr) =>
        new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = Parallelism })
            .Evaluate(expr, MetricQueryParameters.Range(Start, End, 60 * Second));
}

/// <summary>Vector matching at one step: 2,000 series against 2,000 (one-to-one) and against 20 groups (group_left).</summary>
[MemoryDiagnoser]
public class VectorMatchingBenchmarks
{
    private const long Second = 1_000_000_000L;
    private const long Time = 1_700_000_000L * Second;

    private ArraySampleSource _source = null!;
    private SampleExpr _oneToOne = null!;
    private SampleExpr _groupLeft = null!;
    private SampleExpr _and = null!;

    [GlobalSetup]
    public void Setup()
    {
        var streams = new List<(LabelSet[], long[], double[])>();
        for (var s = 0; s < 2000; s++)
        {
            var labels = LabelSet.From(("app", "web"), ("pod", "pod-" + s), ("team", "team-" + (s % 20)));
            streams.Add(([labels], [Time - Second, Time], [1, 1]));
        }

        _source = new ArraySampleSource(streams);
        _oneToOne = (SampleExpr)LogQLParser.Parse("count_over_time({app=\"web\"}[1m]) / count_over_time({app=\"web\"}[1m])");
        _groupLeft = (SampleExpr)LogQLParser.Parse(
            "count_over_time({app=\"web\"}[1m]) / on (team) group_left sum by (team) (count_over_time({app=\"web\"}[1m]))");
        _and = (SampleExpr)LogQLParser.Parse("count_over_time({app=\"web\"}[1m]) and on (pod) count_over_time({app=\"web\"}[1m])");
    }

    [Benchmark]
    public MetricResult OneToOne() => Evaluate(_oneToOne);

    [Benchmark]
    public MetricResult GroupLeft() => Evaluate(_groupLeft);

    [Benchmark]
    public MetricResult AndOnPod() => Evaluate(_and);

    private MetricResult Evaluate(SampleExpr expr) =>
        new MetricQueryEvaluator(_source, new MetricQueryLimits { MaxQuerySeries = 0 }).Evaluate(expr, MetricQueryParameters.Instant(Time));
}

using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Tests.Evaluation;

/// <summary>
/// Compares the streaming evaluator with a deliberately naive one (every window recomputed from all samples with
/// textbook formulas) on random data, steps, ranges and offsets.
/// </summary>
public sealed class ReferenceEvaluatorTests
{
    private static readonly string[] Functions =
    [
        "count_over_time", "rate", "bytes_over_time", "bytes_rate", "sum_over_time", "avg_over_time", "min_over_time",
        "max_over_time", "stdvar_over_time", "stddev_over_time", "quantile_over_time", "first_over_time", "last_over_time",
        "rate_unwrap",
    ];

    // Covered by RangeAggregationTests and RangeFunctionTableTests instead: extrapolation and absence have no short
    // textbook formula to compare with.
    private static readonly string[] NotCompared = ["rate_counter", "absent_over_time"];

    private static readonly long[] Steps = [15, 30, 60, 90];
    private static readonly long[] Ranges = [10, 30, 60, 120, 300];
    private static readonly long[] Offsets = [0, 30];

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= 40; seed++)
        {
            data.Add(seed);
        }

        return data;
    }

    [Fact]
    public void Every_range_function_is_compared_or_listed_as_not_compared()
    {
        foreach (var function in LogQL.Ast.RangeFunction.All)
        {
            Assert.True(Functions.Contains(function.Name) || NotCompared.Contains(function.Name), function.Name);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Range_aggregations_match_the_naive_evaluator(int seed) => Check(seed, scale: 1);

    /// <summary>Ten hours at steps of minutes: the evaluator works through several slices of steps.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Long_queries_evaluated_in_slices_match_the_naive_evaluator(int seed) => Check(seed, scale: 20);

    /// <summary>
    /// Samples every 30 s in three streams (two sharing a series under grouping, with equal timestamps), plus samples a
    /// nanosecond either side of every minute: windows and slices start and end on them, so each slice carries its
    /// last range of samples into the next. Each sample is read once, and the results match the naive evaluator.
    /// </summary>
    [Theory]
    [InlineData(60, 300, 0)]
    [InlineData(60, 600, 30)]
    [InlineData(90, 300, 0)]
    [InlineData(60, 3600, 0)]
    [InlineData(30, 60, 0)]
    public void Samples_carried_across_slice_boundaries_match_the_naive_evaluator(long stepSeconds, long rangeSeconds, long offsetSeconds)
    {
        var random = new Random((int)(stepSeconds + rangeSeconds + offsetSeconds));
        var source = new InMemorySampleSource();
        for (var i = 0; i < 3; i++)
        {
            var labels = LabelSet.From(("app", i < 2 ? "a" : "b"), ("pod", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var points = new List<(long, double)>();
            for (var ts = 0L; ts <= 5 * 3600 * Second; ts += 30 * Second)
            {
                if (i == 2 && ts % (60 * Second) == 0)
                {
                    points.Add((ts - 1, random.Next(0, 1000)));
                    points.Add((ts, random.Next(0, 1000)));
                    points.Add((ts + 1, random.Next(0, 1000)));
                }
                else
                {
                    // Large and small values, so folding them in another order would change the low bits.
                    points.Add((ts, random.Next(2) == 0 ? random.Next(0, 1000) : random.NextDouble() * 1e15));
                }
            }

            source.AddNs(labels, points);
        }

        var step = stepSeconds * Second;
        var range = rangeSeconds * Second;
        var offset = offsetSeconds * Second;
        var start = 600 * Second;
        var end = start + (4 * 3600 * Second / step * step);
        foreach (var function in Functions)
        {
            foreach (var (grouping, outer) in new ((bool, string[])?, string?)[] { (null, null), ((false, ["app"]), null), (null, "sum") })
            {
                var query = Query(function, range, offset, grouping, outer);
                var parameters = MetricQueryParameters.Range(start, end, step);
                var selections = source.Selections.Count;
                var actual = (MatrixResult)new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 4 }).Evaluate(Eval.Parse(query), parameters);
                var reads = source.Selections.Skip(selections).ToList();
                AssertSame(Naive(source, function, range, offset, grouping, outer, start, end, step), actual, query);
                var serial = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 1 }).Evaluate(Eval.Parse(query), parameters);
                Assert.Equal(Bits(serial), Bits(actual));

                // The slices' reads follow each other without overlap: nothing is read twice.
                Assert.True(reads.Count >= 2, $"{query}: {reads.Count} slices");
                Assert.Equal(start - offset - range, reads[0].StartExclusiveNs);
                Assert.Equal(end - offset, reads[^1].EndInclusiveNs);
                for (var i = 1; i < reads.Count; i++)
                {
                    Assert.Equal(reads[i - 1].EndInclusiveNs, reads[i].StartExclusiveNs);
                }
            }
        }
    }

    /// <summary>
    /// Thousands of short series (as a parser's per-line labels make), some pausing and coming back later, folded by
    /// outer aggregations whose low bits depend on the order of each step's samples: slices sized by their series (a
    /// first slice that starts over shorter, later ones shrunk to two ranges) give the bits one slice gives.
    /// </summary>
    [Theory]
    [InlineData("avg by (task) (avg_over_time({app=\"celery\"} | unwrap v [5m]))")]
    [InlineData("sum by (task) (sum_over_time({app=\"celery\"} | unwrap v [5m]))")]
    [InlineData("sum by (task) (count_over_time({app=\"celery\"}[5m]))")]
    [InlineData("topk(3, max_over_time({app=\"celery\"} | unwrap v [5m]))")]
    public void Slices_sized_by_their_series_give_the_bits_of_one_slice(string query)
    {
        var random = new Random(11);
        var source = new InMemorySampleSource();
        for (var i = 0; i < 3000; i++)
        {
            var labels = LabelSet.From(("app", "celery"), ("task", "t" + (i % 3)), ("id", (i % 2500).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var first = (long)(i * (3000.0 / 3000) * Second);
            var points = new List<(long, double)> { (first, random.Next(2) == 0 ? random.Next(0, 1000) : random.NextDouble() * 1e15) };
            if (i % 7 == 0)
            {
                // The series pauses and comes back 25 minutes later.
                points.Add((first + (1500 * Second), random.NextDouble() * 1e15));
            }

            source.AddNs(labels, points);
        }

        var parameters = MetricQueryParameters.Range(600 * Second, 3600 * Second, 60 * Second);
        var whole = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 2, MaxQuerySeries = 0 }).Evaluate(Eval.Parse(query), parameters);
        var selections = source.Selections.Count;
        var sliced = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 2, MaxQuerySeries = 0, SliceSeriesTarget = 40 })
            .Evaluate(Eval.Parse(query), parameters);
        Assert.True(source.Selections.Count - selections > 3, $"{source.Selections.Count - selections} selections");
        Assert.Equal(Bits(whole), Bits(sliced));
    }

    /// <summary>
    /// An aggregation right above a range aggregation remembers each series' group by the number the range evaluator
    /// gives the series in its slice; a label_replace that changes nothing in between hides the numbers, so the groups
    /// come from the labels at every step: both give the same bits, over slices that renumber the series (by few and
    /// by many groups, without, and topk, whose groups keep the samples themselves).
    /// </summary>
    [Theory]
    [InlineData("avg by (task) ({0})")]
    [InlineData("sum by (id) ({0})")]
    [InlineData("max without (id) ({0})")]
    [InlineData("count by (task, missing) ({0})")]
    [InlineData("topk by (task) (2, {0})")]
    [InlineData("stddev({0})")]
    [InlineData("stdvar by () ({0})")]
    [InlineData("min by (id, task) ({0})")]
    public void Groups_remembered_per_numbered_series_are_the_groups_of_their_labels(string outer)
    {
        var random = new Random(5);
        var source = new InMemorySampleSource();
        for (var i = 0; i < 2000; i++)
        {
            var labels = LabelSet.From(("app", "celery"), ("task", "t" + (i % 3)), ("id", (i % 40).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("line", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            source.AddNs(labels, [((long)(i * 1.7 * Second), random.NextDouble() * 1e6)]);
        }

        var parameters = MetricQueryParameters.Range(600 * Second, 3600 * Second, 60 * Second);
        var limits = new MetricQueryLimits { MaxParallelism = 2, MaxQuerySeries = 0, SliceSeriesTarget = 40 };
        const string inner = "avg_over_time({app=\"celery\"} | unwrap v [5m])";
        var numbered = new MetricQueryEvaluator(source, limits).Evaluate(Eval.Parse(string.Format(null, outer, inner)), parameters);
        var byLabels = new MetricQueryEvaluator(source, limits)
            .Evaluate(Eval.Parse(string.Format(null, outer, "label_replace(" + inner + ", \"nothing\", \"\", \"\", \"\")")), parameters);
        Assert.NotEmpty(((MatrixResult)numbered).Series);
        Assert.Equal(Bits(byLabels), Bits(numbered));
    }

    /// <summary>
    /// More distinct groups than the aggregation's key table keeps (65,536): the table starts over mid-query, and each group
    /// still gets exactly its own series' values, whether the range evaluator numbers the series (over slices that number
    /// them anew) or a label_replace hides the numbers.
    /// </summary>
    [Theory]
    [InlineData("sum by (id) ({0})")]
    [InlineData("max without (task) ({0})")]
    public void Groups_past_the_key_table_limit_get_their_own_series_values(string outer)
    {
        const int series = 70_000;
        var source = new InMemorySampleSource();
        for (var i = 0; i < series; i++)
        {
            var labels = LabelSet.From(("app", "celery"), ("task", "t" + (i % 3)), ("id", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            source.AddNs(labels, [((600 * Second) + ((i + 1) * (3000 * Second / series)), i)]);
        }

        var parameters = MetricQueryParameters.Range(600 * Second, 3600 * Second, 60 * Second);
        var limits = new MetricQueryLimits { MaxParallelism = 2, MaxQuerySeries = 0, SliceSeriesTarget = 20_000 };
        const string inner = "max_over_time({app=\"celery\"} | unwrap v [5m])";
        var expected = ById(new MetricQueryEvaluator(source, limits).Evaluate(Eval.Parse(inner), parameters));
        Assert.Equal(series, expected.Count);
        var numbered = new MetricQueryEvaluator(source, limits).Evaluate(Eval.Parse(string.Format(null, outer, inner)), parameters);
        var byLabels = new MetricQueryEvaluator(source, limits)
            .Evaluate(Eval.Parse(string.Format(null, outer, "label_replace(" + inner + ", \"nothing\", \"\", \"\", \"\")")), parameters);
        Assert.Equal(expected, ById(numbered));
        Assert.Equal(expected, ById(byLabels));

        static Dictionary<string, string> ById(MetricResult result) => ((MatrixResult)result).Series.ToDictionary(
            s => s.Labels.Get("id")!, s => string.Join(" ", s.Points.Select(p => p.TimestampMs + "=" + BitConverter.DoubleToInt64Bits(p.Value))));
    }

    /// <summary>
    /// Under a <c>by</c> aggregation the range steps hand on only the grouped labels, but a series carrying an error still
    /// fails the query naming its whole labels, as when the steps hand on whole label sets (hidden by a label_replace).
    /// </summary>
    [Theory]
    [InlineData("avg by (task) ({0})")]
    [InlineData("sum by (task, id) ({0})")]
    public void A_failing_series_under_a_by_aggregation_is_named_whole(string outer)
    {
        var source = new InMemorySampleSource();
        for (var i = 0; i < 200; i++)
        {
            var labels = i == 150
                ? LabelSet.From(("app", "celery"), ("task", "t1"), ("__error__", "SampleExtractionErr"), ("line", "150"))
                : LabelSet.From(("app", "celery"), ("task", "t" + (i % 3)), ("line", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            source.AddNs(labels, [((long)(i * 17 * Second), i)]);
        }

        var parameters = MetricQueryParameters.Range(600 * Second, 3600 * Second, 60 * Second);
        var limits = new MetricQueryLimits { MaxParallelism = 2, MaxQuerySeries = 0, SliceSeriesTarget = 40 };
        const string inner = "avg_over_time({app=\"celery\"} | unwrap v [5m])";
        var projected = Assert.Throws<MetricQueryException>(() =>
            new MetricQueryEvaluator(source, limits).Evaluate(Eval.Parse(string.Format(null, outer, inner)), parameters));
        var whole = Assert.Throws<MetricQueryException>(() => new MetricQueryEvaluator(source, limits)
            .Evaluate(Eval.Parse(string.Format(null, outer, "label_replace(" + inner + ", \"nothing\", \"\", \"\", \"\")")), parameters));
        Assert.Contains("line=\"150\"", projected.Message, StringComparison.Ordinal);
        Assert.Equal(whole.Message, projected.Message);
    }

    /// <summary>
    /// A first slice whose cursors hold many series: once what the worker read projects it well past its series limit, the
    /// slice starts over shorter without reading up to the limit, and the answer keeps its bits. With a few series per
    /// cursor the projection is taken after each cursor; with thousands, within the first cursor (it is polled every
    /// 4,096 samples from the share of the slice's time read), instead of reading that cursor whole.
    /// </summary>
    [Theory]
    // 20 streams, each line its own series: 30 per stream in the first hour's slice, 600 in all (limit: 2 x 40). Reading up
    // to the limit would have taken 81 samples; the first stream's 30 (and its window's lead) project 600.
    [InlineData(20, 30, 40, 40)]
    // 4 streams of 9,000 series an hour (limit 2 x 5,000): the first cursor holds about 10,000 samples of the first slice.
    [InlineData(4, 9000, 5000, 4096)]
    public void A_first_slice_projected_past_its_series_limit_starts_over_early(int streams, int seriesPerHour, int target, int firstReadAtMost)
    {
        var source = new CountingSource(streams, seriesPerHour, hours: 2);
        var parameters = MetricQueryParameters.Range(600 * Second, 2 * 3600 * Second, 60 * Second);
        const string query = "sum by (task) (count_over_time({app=\"celery\"}[5m]))";
        var whole = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 1, MaxQuerySeries = 0 }).Evaluate(Eval.Parse(query), parameters);
        source.Reads.Clear();
        var sliced = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 1, MaxQuerySeries = 0, SliceSeriesTarget = target })
            .Evaluate(Eval.Parse(query), parameters);
        Assert.True(source.Reads.Count > 2, $"{source.Reads.Count} selections");
        Assert.InRange(source.Reads[0], 1, firstReadAtMost);
        Assert.Equal(Bits(whole), Bits(sliced));
    }

    /// <summary>
    /// Readers share what a first slice may meet before it starts over: twice the target for one or two, four times the
    /// target in all beyond, so a first slice's series do not grow with the processors.
    /// </summary>
    [Theory]
    [InlineData(1, 2000)]
    [InlineData(2, 2000)]
    [InlineData(4, 1000)]
    [InlineData(8, 500)]
    [InlineData(64, 62)]
    public void Readers_share_the_series_a_first_slice_may_meet_before_it_starts_over(int readers, int perReader)
    {
        Assert.Equal(perReader, MetricQueryLimits.SliceSeriesPerReader(1000, readers));
        Assert.Equal(1, MetricQueryLimits.SliceSeriesPerReader(1, 64));
    }

    /// <summary>
    /// Eight workers over eight cursors of about 610 series each (4,900 against a target of 1,000): each cursor passes its
    /// worker's share, so the first slice starts over, and the answer keeps the bits of one worker's whole read.
    /// </summary>
    [Fact]
    public void Eight_workers_starting_a_first_slice_over_answer_as_one_reading_it_whole()
    {
        var source = new CountingSource(streams: 8, seriesPerHour: 320, hours: 2);
        var parameters = MetricQueryParameters.Range(600 * Second, 2 * 3600 * Second, 60 * Second);
        const string query = "sum by (task) (count_over_time({app=\"celery\"}[5m]))";
        var whole = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 1, MaxQuerySeries = 0 }).Evaluate(Eval.Parse(query), parameters);
        var readOnce = source.Reads.Sum();
        source.Reads.Clear();
        var sliced = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 8, MaxQuerySeries = 0, SliceSeriesTarget = 1000 })
            .Evaluate(Eval.Parse(query), parameters);

        // Slices read nothing twice; only a slice that started over did.
        Assert.True(source.Reads.Sum() > readOnce, $"{string.Join(",", source.Reads)} samples read, {readOnce} without slicing");
        Assert.Equal(Bits(whole), Bits(sliced));
    }

    /// <summary>
    /// A few series whose samples crowd the start of a long first slice: when the worker polls its projection within the
    /// cursor, the share of time read is tiny, but with so few series met the slice does not start over.
    /// </summary>
    [Fact]
    public void A_few_series_crowding_the_start_of_a_cursor_do_not_start_the_slice_over()
    {
        var source = new InMemorySampleSource();
        for (var s = 0; s < 3; s++)
        {
            var points = new List<(long, double)>();
            for (var i = 0; i < 5000; i++)
            {
                points.Add(((301 * Second) + (i * Second / 1000), i));
            }

            source.AddNs(LabelSet.From(("app", "celery"), ("pod", "p" + s)), points);
        }

        var parameters = MetricQueryParameters.Range(600 * Second, 2 * 3600 * Second, 60 * Second);
        const string query = "sum(count_over_time({app=\"celery\"}[5m]))";
        var whole = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 1, MaxQuerySeries = 0 }).Evaluate(Eval.Parse(query), parameters);
        var selections = source.Selections.Count;
        var sliced = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 1, MaxQuerySeries = 0, SliceSeriesTarget = 40 })
            .Evaluate(Eval.Parse(query), parameters);
        Assert.Equal(selections, source.Selections.Count - selections);
        Assert.Equal(Bits(whole), Bits(sliced));
    }

    /// <summary>
    /// Lines spread over eight streams, each line its own series (as a parser's labels make), a seventh of them coming
    /// back later (after a pause longer than the range, so some of them are in their windows at a slice's end, not at the
    /// next slice's first step, and back within that slice): far more series than a slice holds, and a first slice that
    /// one worker starts over (at twice the target) but two, four or eight do not (a share of four times the target each).
    /// The slices therefore end at other steps, yet each step's samples must reach the aggregation in the same order:
    /// the bits do not depend on how many workers read the samples.
    /// </summary>
    [Theory]
    [InlineData("avg by (task) (avg_over_time({app=\"celery\"} | unwrap v [5m]))", 1500)]
    [InlineData("sum by (task) (sum_over_time({app=\"celery\"} | unwrap v [5m]))", 1500)]
    [InlineData("avg by (task) (rate({app=\"celery\"}[5m]))", 1500)]
    [InlineData("avg by (task) (avg_over_time({app=\"celery\"} | unwrap v [5m]))", 400)]
    [InlineData("avg by (task) (rate({app=\"celery\"}[5m]))", 400)]
    public void Workers_slicing_many_pausing_series_differently_give_the_same_bits(string query, int pauseSeconds)
    {
        var source = new ParsedLinesSource(streams: 8, linesPerHour: 12_000, hours: 3, pauseSeconds, seed: 3);
        var parameters = MetricQueryParameters.Range(600 * Second, 3 * 3600 * Second, 60 * Second);
        var bits = new List<string>();
        foreach (var workers in new[] { 1, 2, 4, 8 })
        {
            var selections = source.Selections;
            var limits = new MetricQueryLimits { MaxParallelism = workers, MaxQuerySeries = 0, SliceSeriesTarget = 5000 };
            bits.Add(Bits(new MetricQueryEvaluator(source, limits).Evaluate(Eval.Parse(query), parameters)));
            Assert.True(source.Selections > selections + 2, $"{workers} workers: {source.Selections - selections} selections");
        }

        Assert.NotEmpty(bits[0]);
        Assert.All(bits, b => Assert.Equal(bits[0], b));
    }

    /// <summary>
    /// Streams of lines that are each their own series (some a burst of lines); every seventh line's series comes back after
    /// a pause.
    /// </summary>
    private sealed class ParsedLinesSource : ISampleSource
    {
        private readonly List<(long Ts, double Value, LabelSet Labels)>[] _streams;

        public ParsedLinesSource(int streams, int linesPerHour, int hours, int pauseSeconds, int seed)
        {
            var random = new Random(seed);
            _streams = [.. Enumerable.Range(0, streams).Select(_ => new List<(long, double, LabelSet)>())];
            for (var i = 0; i < linesPerHour * hours; i++)
            {
                var labels = LabelSet.From(("app", "celery"), ("task", "t" + (i % 3)), ("id", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                var ts = (i * 3600 * Second / linesPerHour) + Second;
                var stream = _streams[i % streams];

                // Large and small values, so folding them in another order would change the low bits.
                stream.Add((ts, random.Next(2) == 0 ? random.Next(0, 1000) : random.NextDouble() * 1e15, labels));
                if (i % 7 == 0)
                {
                    stream.Add((ts + (pauseSeconds * Second), random.NextDouble() * 1e15, labels));
                }

                // Bursts of up to 12 lines, so counts (and rates) differ between series and their order shows in an average.
                for (var extra = random.Next(12); extra > 0; extra--)
                {
                    stream.Add((ts + extra, random.NextDouble() * 1e15, labels));
                }
            }

            foreach (var stream in _streams)
            {
                stream.Sort((a, b) => a.Ts.CompareTo(b.Ts));
            }
        }

        public int Selections { get; private set; }

        public IReadOnlyList<ISampleCursor> Select(SampleSelection selection, CancellationToken cancellationToken)
        {
            Selections++;
            return [.. _streams.Select(s => new LineCursor([.. s.Where(p => p.Ts > selection.StartExclusiveNs && p.Ts <= selection.EndInclusiveNs)]))];
        }
    }

    private sealed class LineCursor(List<(long Ts, double Value, LabelSet Labels)> points) : ISampleCursor
    {
        private int _at = -1;

        public long TimestampNs => points[_at].Ts;

        public double Value => points[_at].Value;

        public LabelSet Labels => points[_at].Labels;

        public bool MoveNext() => ++_at < points.Count;

        public void Dispose()
        {
        }
    }

    private sealed class CountingSource(int streams, int seriesPerHour, int hours) : ISampleSource
    {
        public List<int> Reads { get; } = [];

        public IReadOnlyList<ISampleCursor> Select(SampleSelection selection, CancellationToken cancellationToken)
        {
            var selectionIndex = Reads.Count;
            Reads.Add(0);
            var cursors = new List<ISampleCursor>();
            for (var s = 0; s < streams; s++)
            {
                var points = new List<(long, LabelSet)>();
                for (var i = 0; i < seriesPerHour * hours; i++)
                {
                    var ts = (i * 3600 * Second / seriesPerHour) + (s * Second) + Second;
                    if (ts > selection.StartExclusiveNs && ts <= selection.EndInclusiveNs)
                    {
                        points.Add((ts, LabelSet.From(("app", "celery"), ("task", "t" + (i % 3)), ("id", s + "-" + i))));
                    }
                }

                cursors.Add(new CountingCursor(points, () => Reads[selectionIndex]++));
            }

            return cursors;
        }
    }

    private sealed class CountingCursor(List<(long Ts, LabelSet Labels)> points, Action read) : ISampleCursor
    {
        private int _at = -1;

        public long TimestampNs => points[_at].Ts;

        public double Value => 1;

        public LabelSet Labels => points[_at].Labels;

        public bool MoveNext()
        {
            if (++_at >= points.Count)
            {
                return false;
            }

            read();
            return true;
        }

        public void Dispose()
        {
        }
    }

    private static void Check(int seed, long scale)
    {
        var random = new Random(seed);
        var source = RandomSource(random, scale);
        foreach (var function in Functions)
        {
            var step = Steps[random.Next(Steps.Length)] * Second * scale;
            var range = Ranges[random.Next(Ranges.Length)] * Second * scale;
            var offset = Offsets[random.Next(Offsets.Length)] * Second * scale;
            var start = random.Next(0, 300) * Second * scale;
            var end = start + (random.Next(0, 40) * step);
            (bool Without, string[] Labels)? grouping = random.Next(3) switch
            {
                0 => null,
                1 => (false, ["app"]),
                _ => (true, ["pod"]),
            };
            var outer = random.Next(3) switch
            {
                0 => null,
                1 => "sum",
                _ => "max",
            };

            var query = Query(function, range, offset, grouping, outer);
            var parameters = MetricQueryParameters.Range(start, end, step);
            var actual = (MatrixResult)new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 4 }).Evaluate(Eval.Parse(query), parameters);
            var expected = Naive(source, function, range, offset, grouping, outer, start, end, step);
            AssertSame(expected, actual, query);

            // One thread or four: the same series, points and bits.
            var serial = new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 1 }).Evaluate(Eval.Parse(query), parameters);
            Assert.Equal(Bits(serial), Bits(actual));

            // The instant query at the last step must equal the matrix's last column.
            var instant = (VectorResult)new MetricQueryEvaluator(source).Evaluate(Eval.Parse(query), MetricQueryParameters.Instant(end));
            var lastColumn = expected.Where(s => s.Value.ContainsKey(end / 1_000_000)).ToDictionary(s => s.Key, s => s.Value[end / 1_000_000]);
            Assert.Equal(lastColumn.Count, instant.Samples.Count);
            foreach (var sample in instant.Samples)
            {
                AssertClose(lastColumn[sample.Labels.ToString()], sample.Value, query);
            }
        }
    }

    private const long Second = 1_000_000_000L;

    private static string Bits(MetricResult result) => string.Join("\n", ((MatrixResult)result).Series.Select(s =>
        s.Labels + " " + string.Join(" ", s.Points.Select(p => p.TimestampMs + "=" + BitConverter.DoubleToInt64Bits(p.Value)))));

    private static InMemorySampleSource RandomSource(Random random, long scale)
    {
        var source = new InMemorySampleSource();
        var streams = random.Next(1, 7);
        for (var i = 0; i < streams; i++)
        {
            var labels = LabelSet.From(("app", random.Next(2) == 0 ? "a" : "b"), ("pod", random.Next(4).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("stream", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var points = new List<(long, double)>();
            var count = random.Next(0, 200);
            for (var j = 0; j < count; j++)
            {
                // A third of the samples fall on whole 15 s boundaries, where windows start and end.
                var ts = scale * (random.Next(3) == 0 ? random.Next(0, 120) * 15 * Second : (long)(random.NextDouble() * 1800 * Second));
                points.Add((ts, random.Next(0, 1000)));
            }

            points.Sort((a, b) => a.Item1.CompareTo(b.Item1));
            source.AddNs(labels, points);
        }

        return source;
    }

    private static string Query(string function, long range, long offset, (bool Without, string[] Labels)? grouping, string? outer)
    {
        var selector = "{app=~\".+\"}";
        var window = "[" + (range / Second) + "s]" + (offset == 0 ? string.Empty : " offset " + (offset / Second) + "s");
        var group = grouping is { } g ? (g.Without ? " without (" : " by (") + string.Join(",", g.Labels) + ")" : string.Empty;
        var unwrapOnly = function is not ("count_over_time" or "rate" or "bytes_over_time" or "bytes_rate");

        // Loki allows by/without only on the functions that take unwrap (but not sum_over_time nor rate).
        if (function is "count_over_time" or "rate" or "bytes_over_time" or "bytes_rate" or "sum_over_time" or "rate_unwrap")
        {
            group = string.Empty;
        }

        var name = function == "rate_unwrap" ? "rate" : function;
        var parameter = function == "quantile_over_time" ? "0.9, " : string.Empty;
        var inner = unwrapOnly
            ? name + "(" + parameter + selector + " | unwrap v " + window + ")" + group
            : name + "(" + selector + window + ")";
        return outer is null ? inner : outer + " by (app) (" + inner + ")";
    }

    private static Dictionary<string, Dictionary<long, double>> Naive(
        InMemorySampleSource source, string function, long range, long offset, (bool Without, string[] Labels)? grouping,
        string? outer, long start, long end, long step)
    {
        var hasGrouping = grouping is not null && function is not ("count_over_time" or "rate" or "bytes_over_time" or "bytes_rate" or "sum_over_time" or "rate_unwrap");
        var countOnly = function is "count_over_time" or "rate";
        var result = new Dictionary<string, Dictionary<long, double>>();
        for (var t = start; t <= end; t += step)
        {
            var from = t - offset - range;
            var to = t - offset;
            var windows = new SortedDictionary<string, List<(long Ts, string Stream, int Index, int Position, double Value)>>(StringComparer.Ordinal);
            var labelsOf = new Dictionary<string, LabelSet>();
            for (var s = 0; s < source.Streams.Count; s++)
            {
                var stream = source.Streams[s];
                var key = stream.Labels;
                if (hasGrouping)
                {
                    var (without, names) = grouping!.Value;
                    key = LabelSet.From(stream.Labels.Where(p => names.Contains(p.Name) != without));
                }

                for (var position = 0; position < stream.Points.Count; position++)
                {
                    var (ts, value) = stream.Points[position];
                    if (ts > from && ts <= to)
                    {
                        if (!windows.TryGetValue(key.ToString(), out var list))
                        {
                            windows[key.ToString()] = list = [];
                            labelsOf[key.ToString()] = key;
                        }

                        list.Add((ts, stream.Labels.ToString(), s, position, countOnly ? 1 : value));
                    }
                }
            }

            var vector = new List<(LabelSet Labels, double Value)>();
            foreach (var (key, samples) in windows)
            {
                samples.Sort((a, b) => a.Ts != b.Ts ? a.Ts.CompareTo(b.Ts)
                    : a.Stream != b.Stream ? string.CompareOrdinal(a.Stream, b.Stream)
                    : a.Index != b.Index ? a.Index.CompareTo(b.Index)
                    : a.Position.CompareTo(b.Position));
                vector.Add((labelsOf[key], Function(function, [.. samples.Select(x => x.Value)], range)));
            }

            if (outer is not null)
            {
                vector = [.. vector.GroupBy(v => v.Labels.Get("app") ?? string.Empty)
                    .Select(g => (LabelSet.From(("app", g.Key)), outer == "sum" ? g.Sum(v => v.Value) : g.Max(v => v.Value)))];
            }

            foreach (var (labels, value) in vector)
            {
                if (!result.TryGetValue(labels.ToString(), out var points))
                {
                    result[labels.ToString()] = points = [];
                }

                points[t / 1_000_000] = value;
            }
        }

        return result;
    }

    private static double Function(string function, double[] values, long range)
    {
        var seconds = range / (double)Second;
        var n = values.Length;
        var mean = values.Average();
        return function switch
        {
            "count_over_time" => n,
            "rate" => n / seconds,
            "bytes_over_time" or "sum_over_time" => values.Sum(),
            "bytes_rate" or "rate_unwrap" => values.Sum() / seconds,
            "avg_over_time" => mean,
            "min_over_time" => values.Min(),
            "max_over_time" => values.Max(),
            "stdvar_over_time" => values.Sum(v => (v - mean) * (v - mean)) / n,
            "stddev_over_time" => Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / n),
            "quantile_over_time" => QuantileByHand(0.9, values),
            "first_over_time" => values[0],
            "last_over_time" => values[^1],
            _ => throw new ArgumentOutOfRangeException(nameof(function)),
        };
    }

    private static double QuantileByHand(double q, double[] values)
    {
        var sorted = values.Order().ToArray();
        var rank = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(rank);
        var upper = Math.Min(sorted.Length - 1, lower + 1);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (rank - lower));
    }

    private static void AssertSame(Dictionary<string, Dictionary<long, double>> expected, MatrixResult actual, string query)
    {
        Assert.True(expected.Count == actual.Series.Count, $"{query}: expected {expected.Count} series, got {actual.Series.Count}");
        foreach (var series in actual.Series)
        {
            Assert.True(expected.TryGetValue(series.Labels.ToString(), out var points), $"{query}: unexpected series {series.Labels}");
            Assert.Equal(points!.Keys.Order(), series.Points.Select(p => p.TimestampMs));
            foreach (var point in series.Points)
            {
                AssertClose(points[point.TimestampMs], point.Value, query);
            }
        }
    }

    private static void AssertClose(double expected, double actual, string query)
    {
        var tolerance = 1e-9 * Math.Max(1, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"{query}: expected {expected}, got {actual}");
    }
}

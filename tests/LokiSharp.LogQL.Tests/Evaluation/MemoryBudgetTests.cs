using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using static LokiSharp.LogQL.Tests.Evaluation.Eval;

namespace LokiSharp.LogQL.Tests.Evaluation;

/// <summary>
/// <c>max_query_memory_bytes</c> in the evaluator: a query whose result matrix or loaded samples would exceed the
/// budget fails with <see cref="QueryMemoryLimitException"/>, the same data under a cheaper query passes, and what a
/// slice held is given back once the slice is done.
/// </summary>
public sealed class MemoryBudgetTests
{
    private const long Megabyte = 1L << 20;

    [Fact]
    public void A_budget_fails_past_its_limit_and_names_it()
    {
        var budget = new QueryMemoryBudget(Megabyte);
        budget.Reserve(Megabyte - 10);
        budget.Release(100);
        budget.Reserve(100);
        var error = Assert.Throws<QueryMemoryLimitException>(() => budget.Reserve(11));
        Assert.Equal(
            "the query would use too much memory (limit: 1MB, max_query_memory_bytes); consider adding more specific stream selectors, reducing the time range or the limit, or increasing the step",
            error.Message);
        Assert.Equal(Megabyte - 10, budget.ReservedBytes);

        var unlimited = QueryMemoryBudget.Unlimited;
        unlimited.Reserve(long.MaxValue / 2);
        Assert.Equal(long.MaxValue / 2, unlimited.PeakBytes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Series_times_steps_of_the_result_are_bounded(int parallelism)
    {
        // 50 series with a sample every 10 s for three hours; a 1 s step gives 10,801 points per series.
        var source = new InMemorySampleSource();
        for (var s = 0; s < 50; s++)
        {
            source.AddNs(InMemorySampleSource.Labels("app=a,pod=p" + s),
                [.. Enumerable.Range(0, 1080).Select(i => (InMemorySampleSource.Ns(i * 10.0), 1.0))]);
        }

        var limits = new MetricQueryLimits { MaxParallelism = parallelism };
        var parameters = MetricQueryParameters.Range(0, InMemorySampleSource.Ns(10_800), InMemorySampleSource.Ns(1));
        var budget = new QueryMemoryBudget(4 * Megabyte);
        Assert.Throws<QueryMemoryLimitException>(() =>
            new MetricQueryEvaluator(source, limits, budget).Evaluate(Parse("count_over_time({app=\"a\"}[1m])"), parameters));

        // Summed, the same samples make one series: well within the same budget, which holds only its points after.
        var summed = new QueryMemoryBudget(4 * Megabyte);
        var result = (MatrixResult)new MetricQueryEvaluator(source, limits, summed).Evaluate(Parse("sum(count_over_time({app=\"a\"}[1m]))"), parameters);
        var points = Assert.Single(result.Series).Points.Count;
        Assert.Equal(10_801, points);
        Assert.InRange(summed.ReservedBytes, points * 16L, points * 64L);
        Assert.True(summed.PeakBytes > summed.ReservedBytes, "the slices' samples were reserved, then released");
    }

    [Fact]
    public void Samples_loaded_for_a_slice_are_bounded()
    {
        // One stream with a sample every 10 ms for an hour: an unwrap keeps each sample, a count only runs of them.
        var source = new InMemorySampleSource().AddNs(InMemorySampleSource.Labels("app=a"),
            [.. Enumerable.Range(0, 360_000).Select(i => (i * 10_000_000L, (double)i))]);
        var parameters = MetricQueryParameters.Range(0, InMemorySampleSource.Ns(3600), InMemorySampleSource.Ns(60));

        var error = Assert.Throws<QueryMemoryLimitException>(() => new MetricQueryEvaluator(source, null, new QueryMemoryBudget(Megabyte))
            .Evaluate(Parse("max_over_time({app=\"a\"} | unwrap v [1m])"), parameters));
        Assert.Equal(Megabyte, error.LimitBytes);

        var counted = (MatrixResult)new MetricQueryEvaluator(source, null, new QueryMemoryBudget(Megabyte))
            .Evaluate(Parse("count_over_time({app=\"a\"}[1m])"), parameters);
        Assert.Equal(6000, Assert.Single(counted.Series).Points[1].Value);
    }

    [Fact]
    public void An_instant_vector_is_bounded()
    {
        var source = new InMemorySampleSource();
        for (var s = 0; s < 2000; s++)
        {
            source.Add("app=a,pod=p" + s, (10, 1));
        }

        var limits = new MetricQueryLimits { MaxQuerySeries = 0 };
        var instant = MetricQueryParameters.Instant(InMemorySampleSource.Ns(20));
        Assert.Throws<QueryMemoryLimitException>(() => new MetricQueryEvaluator(source, limits, new QueryMemoryBudget(256 * 1024))
            .Evaluate(Parse("count_over_time({app=\"a\"}[1m])"), instant));

        // With room for it, the vector's samples are what stays reserved once the evaluation is done.
        var roomy = new QueryMemoryBudget(16 * Megabyte);
        var ok = (VectorResult)new MetricQueryEvaluator(source, limits, roomy).Evaluate(Parse("count_over_time({app=\"a\"}[1m])"), instant);
        Assert.Equal(2000, ok.Samples.Count);
        Assert.InRange(roomy.ReservedBytes, 2000 * 48L, 2000 * 512L);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Pair_chunks_a_slice_gave_up_stay_counted_until_the_query_ends(int parallelism)
    {
        // 4,000 streams of 40 labels, each with one line in the first half hour of a two-hour query: the first slice's key
        // tables hold 160,000 pairs, whose chunks the query keeps (on its shelf) while the next slices load.
        const int streams = 4000;
        var names = Enumerable.Range(0, 39).Select(i => "label" + i).ToArray();
        var source = new InMemorySampleSource();
        for (var s = 0; s < streams; s++)
        {
            var value = "v" + s;
            source.AddNs(LabelSet.From(names.Select(n => new LabelPair(n, value)).Append(new LabelPair("app", "a"))),
                [(InMemorySampleSource.Ns(10 + (s * 0.25)), 1.0)]);
        }

        var budget = new QueryMemoryBudget(64 * Megabyte);
        var watched = new ReservedAtSelect(source, budget);
        var result = (MatrixResult)new MetricQueryEvaluator(watched, new MetricQueryLimits { MaxParallelism = parallelism }, budget)
            .Evaluate(Parse("sum(count_over_time({app=\"a\"}[1m]))"), MetricQueryParameters.Range(0, InMemorySampleSource.Ns(7200), InMemorySampleSource.Ns(60)));

        Assert.Equal(streams, Assert.Single(result.Series).Points.Sum(p => p.Value));
        Assert.True(watched.Reserved.Count >= 2, "the query ran in more than one slice");
        const long pairBytes = streams * 40L * 16;
        Assert.True(watched.Reserved[1] >= pairBytes,
            $"reserved when the second slice opened its cursors: {watched.Reserved[1]} bytes, fewer than the first slice's {pairBytes} bytes of pairs");

        // Once the query is done, only its result stays reserved: the shelf gave back what it held.
        Assert.InRange(budget.ReservedBytes, 0, 64 * 1024);
    }

    [Fact]
    public void A_series_labels_are_counted_once()
    {
        // 2,000 series of 21 labels with long names shared by every series (as the index's and a parser's names are)
        // and short values of their own. A series holds its pairs (16 bytes each, in its key table's chunks) and its
        // values' strings; the columns and slice arrays add about a hundred bytes a series.
        const int streams = 2000;
        var names = Enumerable.Range(0, 20).Select(i => "a_rather_long_label_name_shared_by_series_" + i).ToArray();
        var source = new InMemorySampleSource();
        long held = 0;
        for (var s = 0; s < streams; s++)
        {
            var labels = LabelSet.From(names.Select((n, i) => new LabelPair(n, s + "/" + i)).Append(new LabelPair("app", "a")));
            held += labels.Count * (16 + QueryMemoryBudget.ObjectOverhead) + labels.Sum(p => 2L * p.Value.Length);
            source.AddNs(labels, [(InMemorySampleSource.Ns(1 + (s * 0.02)), 1.0)]);
        }

        var budget = new QueryMemoryBudget(64 * Megabyte);
        var result = (VectorResult)new MetricQueryEvaluator(source, new MetricQueryLimits { MaxParallelism = 1 }, budget)
            .Evaluate(Parse("sum(count_over_time({app=\"a\"}[1m]))"), MetricQueryParameters.Instant(InMemorySampleSource.Ns(60)));

        Assert.Equal(streams, Assert.Single(result.Samples).Value);
        Assert.InRange(budget.PeakBytes, held, 2 * held);
    }

    /// <summary>A source that notes how many bytes the budget holds whenever the evaluator opens cursors (once a slice).</summary>
    private sealed class ReservedAtSelect(ISampleSource inner, QueryMemoryBudget budget) : ISampleSource
    {
        public List<long> Reserved { get; } = [];

        public IReadOnlyList<ISampleCursor> Select(SampleSelection selection, CancellationToken cancellationToken)
        {
            Reserved.Add(budget.ReservedBytes);
            return inner.Select(selection, cancellationToken);
        }
    }
}

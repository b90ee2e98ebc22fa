using LokiSharp.LogQL.Evaluation;
using static LokiSharp.LogQL.Tests.Evaluation.Eval;

namespace LokiSharp.LogQL.Tests.Evaluation;

public sealed class QueryShapeTests
{
    [Fact]
    public void A_literal_is_a_scalar_for_instant_queries_and_a_series_for_range_queries()
    {
        var source = new InMemorySampleSource();
        var scalar = Instant(source, "1 + 1", 120.5);
        Assert.Equal(MetricResultType.Scalar, scalar.Type);
        Assert.Equal("scalar 120.5=2", Render(scalar));
        Assert.Equal("{} 60=2 120=2 180=2", Render(Range(source, "2", 60, 180, 60)));
        Assert.Equal("matrix", Range(source, "2", 60, 180, 60).TypeName);
    }

    [Fact]
    public void Vector_is_a_vector_for_instant_queries()
    {
        var result = Instant(new InMemorySampleSource(), "vector(3)", 120);
        Assert.Equal("vector", result.TypeName);
        Assert.Equal("{} 120=3", Render(result));
    }

    [Fact]
    public void No_data_gives_empty_results_not_errors()
    {
        var source = new InMemorySampleSource();
        Assert.Empty(((VectorResult)Instant(source, "sum(rate({app=\"a\"}[1m]))", 120)).Samples);
        Assert.Empty(((MatrixResult)Range(source, "sum(rate({app=\"a\"}[1m]))", 60, 180, 60)).Series);
    }

    [Fact]
    public void Matrix_series_are_sorted_by_labels_pair_by_pair()
    {
        var source = new InMemorySampleSource()
            .Add("app=b", (100, 0))
            .Add("app=a,pod=2", (100, 0))
            .Add("app=a", (100, 0))
            .Add("app=a,pod=10", (100, 0));
        var result = (MatrixResult)Range(source, "count_over_time({app=~\".+\"}[1m])", 120, 120, 60);
        Assert.Equal(["{app=\"a\"}", "{app=\"a\", pod=\"10\"}", "{app=\"a\", pod=\"2\"}", "{app=\"b\"}"], result.Series.Select(s => s.Labels.ToString()));
    }

    [Fact]
    public void Series_limit_fails_with_lokis_text()
    {
        var source = new InMemorySampleSource().Add("app=a", (100, 0)).Add("app=b", (100, 0)).Add("app=c", (160, 0));
        var limits = new MetricQueryLimits { MaxQuerySeries = 2 };
        const string query = "count_over_time({app=~\".+\"}[1m])";
        const string message = "maximum number of series (2) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, " +
            "reducing the time range, or aggregating results with functions like sum(), count() or topk()";

        var instant = Assert.Throws<MetricQueryException>(() => Instant(source, "count_over_time({app=~\".+\"}[2m])", 180, limits));
        Assert.Equal(message, instant.Message);
        Assert.Equal(400, instant.HttpStatus);

        // Two series at the first step, the third appears later.
        var range = Assert.Throws<MetricQueryException>(() => Range(source, query, 120, 180, 60, limits));
        Assert.Equal(message, range.Message);
        Assert.Equal(2, ((MatrixResult)Range(source, "sum by (app) (" + query + ")", 120, 120, 60, limits)).Series.Count);
    }

    [Fact]
    public void Default_limit_is_500()
    {
        var error = MetricQueryException.SeriesLimit(MetricQueryLimits.Default.MaxQuerySeries);
        Assert.StartsWith("maximum number of series (500) reached for a single query;", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 3600, 14, null)]
    [InlineData(0, 10, 0, "zero or negative query resolution step widths are not accepted. Try a positive integer")]
    [InlineData(10, 0, 1, "end timestamp must not be before or equal to start time")]
    [InlineData(0, 11000, 1, null)]
    [InlineData(0, 11001, 1, "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter")]
    public void Range_parameter_rules(long start, long end, long step, string? expected) =>
        Assert.Equal(expected, MetricQueryParameters.ValidateRange(start * 1_000_000_000L, end * 1_000_000_000L, step * 1_000_000_000L));

    [Theory]
    [InlineData(0, 3600, 14)]
    [InlineData(0, 100, 1)]
    [InlineData(0, 86400, 345)]
    public void Default_step_is_a_250th_of_the_range_in_whole_seconds(long start, long end, long expectedSeconds) =>
        Assert.Equal(expectedSeconds * 1_000_000_000L, MetricQueryParameters.DefaultStepNs(start * 1_000_000_000L, end * 1_000_000_000L));

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(1e21, "1000000000000000000000")]
    [InlineData(1e-7, "0.0000001")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    public void Values_print_as_go_formats_them(double value, string expected) =>
        Assert.Equal(expected, MetricValueFormat.FormatValue(value));

    [Theory]
    [InlineData(1700000000123, "1700000000.123")]
    [InlineData(1700000000100, "1700000000.1")]
    [InlineData(1700000000000, "1700000000")]
    [InlineData(5, "0.005")]
    public void Timestamps_print_as_seconds_with_millisecond_decimals(long ms, string expected) =>
        Assert.Equal(expected, MetricValueFormat.FormatTimestamp(ms));

    [Fact]
    public void Instant_vectors_are_sorted_by_labels_unless_sorted_by_value()
    {
        var source = new InMemorySampleSource().Add("app=b", (100, 0)).Add("app=a", (100, 0), (110, 0));
        Assert.Equal("{app=\"a\"} 120=2\n{app=\"b\"} 120=1", Render(Instant(source, "count_over_time({app=~\".+\"}[1m])", 120)));
        Assert.Equal("{app=\"b\"} 120=1\n{app=\"a\"} 120=2", Render(Instant(source, "sort(count_over_time({app=~\".+\"}[1m]))", 120)));
    }

    [Fact]
    public void Instant_query_selects_the_window_before_time()
    {
        var source = new InMemorySampleSource();
        Instant(source, "rate({app=\"a\"}[5m])", 1000);
        var selection = Assert.Single(source.Selections);
        Assert.Equal(InMemorySampleSource.Ns(700), selection.StartExclusiveNs);
        Assert.Equal(InMemorySampleSource.Ns(1000), selection.EndInclusiveNs);
    }

    [Fact]
    public void Cancellation_stops_evaluation()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var source = new InMemorySampleSource().Add("app=a", (100, 0));
        var evaluator = new MetricQueryEvaluator(source);
        Assert.Throws<OperationCanceledException>(() =>
            evaluator.Evaluate(Parse("count_over_time({app=\"a\"}[1m])"), MetricQueryParameters.Range(0, 200_000_000_000, 60_000_000_000), cts.Token));
    }
}

public sealed class EvaluatorGuardTests
{
    [Fact]
    public void A_range_aggregation_alone_fails_while_loading_once_a_window_exceeds_the_series_limit()
    {
        var source = new InMemorySampleSource();
        for (var i = 0; i < 5; i++)
        {
            source.Add("app=a,id=" + i, (100 + i, 1));
        }

        var limits = new MetricQueryLimits { MaxQuerySeries = 3 };
        var error = Assert.Throws<MetricQueryException>(() => Eval.Range(source, "avg_over_time({app=\"a\"} | unwrap v [5m])", 120, 120, 60, limits));
        Assert.Equal(MetricQueryErrorKind.Limit, error.Kind);

        // Aggregated, the same samples are one series and within the limit.
        var ok = (MatrixResult)Eval.Range(source, "avg(avg_over_time({app=\"a\"} | unwrap v [5m]))", 120, 120, 60, limits);
        Assert.Single(ok.Series);
    }

    [Fact]
    public void A_range_query_with_a_non_positive_step_is_refused()
    {
        var evaluator = new MetricQueryEvaluator(new InMemorySampleSource());
        var error = Assert.Throws<MetricQueryException>(() =>
            evaluator.Evaluate(Eval.Parse("1"), MetricQueryParameters.Range(0, 10, 0)));
        Assert.Equal("zero or negative query resolution step widths are not accepted. Try a positive integer", error.Message);
    }
}

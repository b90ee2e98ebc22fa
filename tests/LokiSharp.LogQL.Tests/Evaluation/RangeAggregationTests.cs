using LokiSharp.LogQL.Evaluation;
using static LokiSharp.LogQL.Tests.Evaluation.Eval;

namespace LokiSharp.LogQL.Tests.Evaluation;

public sealed class RangeAggregationTests
{
    // Samples exactly at t - range are outside the window, samples exactly at t inside.
    [Fact]
    public void Instant_window_excludes_the_left_edge_and_includes_the_right_edge()
    {
        var source = new InMemorySampleSource().Add("app=a", (60, 0), (90, 0), (120, 0), (121, 0));
        Assert.Equal("{app=\"a\"} 120=2", Render(Instant(source, "count_over_time({app=\"a\"}[1m])", 120)));
    }

    [Fact]
    public void Range_query_evaluates_every_step_from_start_to_end_inclusive()
    {
        var source = new InMemorySampleSource().Add("app=a", (60, 0), (90, 0), (120, 0), (150, 0), (180, 0), (181, 0));
        Assert.Equal("{app=\"a\"} 60=1 120=2 180=2", Render(Range(source, "count_over_time({app=\"a\"}[1m])", 60, 180, 60)));
    }

    [Fact]
    public void Range_query_with_windows_shorter_than_the_step_folds_each_window()
    {
        var source = new InMemorySampleSource().Add("app=a", (60, 0), (90, 0), (120, 0), (150, 0), (180, 0));
        Assert.Equal("{app=\"a\"} 60=1 150=2", Render(Range(source, "count_over_time({app=\"a\"}[1m])", 60, 180, 90)));
    }

    [Fact]
    public void Steps_without_samples_emit_no_point()
    {
        var source = new InMemorySampleSource().Add("app=a", (30, 0), (150, 0));
        Assert.Equal("{app=\"a\"} 60=1 180=1", Render(Range(source, "count_over_time({app=\"a\"}[1m])", 60, 180, 60)));
    }

    [Fact]
    public void Rate_divides_by_the_full_range()
    {
        var source = new InMemorySampleSource().Add("app=a", (60, 0), (90, 0), (120, 0));
        Assert.Equal("{app=\"a\"} 120=0.03333333333333333", Render(Instant(source, "rate({app=\"a\"}[1m])", 120)));
    }

    [Theory]
    [InlineData("sum_over_time", "12")]
    [InlineData("avg_over_time", "4")]
    [InlineData("min_over_time", "2")]
    [InlineData("max_over_time", "6")]
    [InlineData("stdvar_over_time", "2.6666666666666665")]
    [InlineData("first_over_time", "2")]
    [InlineData("last_over_time", "6")]
    [InlineData("rate", "0.2")]
    public void Unwrap_functions_over_an_edge_window(string function, string expected)
    {
        // The sample at 60 sits exactly on the left edge and is excluded; 120 is on the right edge and included.
        var source = new InMemorySampleSource().Add("app=a", (60, 1), (70, 2), (100, 4), (120, 6));
        var result = Instant(source, function + "({app=\"a\"} | unwrap v [1m])", 120);
        Assert.Equal("{app=\"a\"} 120=" + expected, Render(result));
    }

    [Fact]
    public void Stddev_over_time_is_the_population_deviation()
    {
        var source = new InMemorySampleSource().Add("app=a", (70, 2), (100, 4), (120, 6));
        var sample = Assert.Single(((VectorResult)Instant(source, "stddev_over_time({app=\"a\"} | unwrap v [1m])", 120)).Samples);
        Assert.Equal(Math.Sqrt(8.0 / 3), sample.Value);
    }

    [Theory]
    [InlineData("0.5", "4")]
    [InlineData("0.25", "3")]
    [InlineData("1", "6")]
    [InlineData("0", "2")]
    [InlineData("1.5", "+Inf")]
    public void Quantile_over_time_interpolates_linearly(string q, string expected)
    {
        var source = new InMemorySampleSource().Add("app=a", (70, 6), (100, 2), (120, 4));
        var result = Instant(source, "quantile_over_time(" + q + ", {app=\"a\"} | unwrap v [1m])", 120);
        Assert.Equal("{app=\"a\"} 120=" + expected, Render(result));
    }

    [Fact]
    public void Bytes_functions_sum_line_sizes()
    {
        var source = new InMemorySampleSource().Add("app=a", (60, 100), (70, 10), (120, 20));
        Assert.Equal("{app=\"a\"} 120=30", Render(Instant(source, "bytes_over_time({app=\"a\"}[1m])", 120)));
        Assert.Equal("{app=\"a\"} 120=0.5", Render(Instant(source, "bytes_rate({app=\"a\"}[1m])", 120)));
    }

    [Fact]
    public void Rate_counter_extrapolates_to_the_window_edges()
    {
        // increase 20 over 50 s of samples, 10 s before the first sample (below 1.1 x 25 s spacing): 20 x 60/50 / 60.
        var source = new InMemorySampleSource().Add("app=a", (60, 5), (70, 10), (100, 20), (120, 30));
        Assert.Equal("{app=\"a\"} 120=0.4", Render(Instant(source, "rate_counter({app=\"a\"} | unwrap v [1m])", 120)));
    }

    [Fact]
    public void Rate_counter_adds_values_before_a_reset()
    {
        var source = new InMemorySampleSource().Add("app=a", (70, 10), (100, 2), (120, 12));
        var sample = Assert.Single(((VectorResult)Instant(source, "rate_counter({app=\"a\"} | unwrap v [1m])", 120)).Samples);
        Assert.Equal(12 * (60.0 / 50) / 60, sample.Value);
    }

    [Fact]
    public void Rate_counter_clamps_extrapolation_at_the_counter_zero_point()
    {
        // Spacing 10 s: 15 s to the window start and 25 s to its end exceed 1.1 x 10 s, so 5 s each; then the counter's
        // zero point, 20 s x 1/8 before the first sample, is closer than 5 s and wins.
        var source = new InMemorySampleSource().Add("app=a", (75, 1), (85, 5), (95, 9));
        var sample = Assert.Single(((VectorResult)Instant(source, "rate_counter({app=\"a\"} | unwrap v [1m])", 120)).Samples);
        Assert.Equal(8 * (27.5 / 20) / 60, sample.Value);
    }

    [Fact]
    public void Rate_counter_with_one_sample_is_zero_and_still_emitted()
    {
        var source = new InMemorySampleSource().Add("app=a", (100, 7));
        Assert.Equal("{app=\"a\"} 120=0", Render(Instant(source, "rate_counter({app=\"a\"} | unwrap v [1m])", 120)));
    }

    [Fact]
    public void Absent_over_time_reports_empty_steps_with_the_equality_matchers()
    {
        var source = new InMemorySampleSource().Add("app=a,env=x,team=t", (100, 0));
        var result = Range(source, "absent_over_time({app=\"a\", env=~\"x\", team=\"t\", team!=\"u\"}[1m])", 60, 240, 60);

        // team is also named by a non-equality matcher and env only by one, so only app remains.
        Assert.Equal("{app=\"a\"} 60=1 180=1 240=1", Render(result));
    }

    [Fact]
    public void Absent_over_time_with_no_data_at_all()
    {
        var result = Range(new InMemorySampleSource(), "absent_over_time({app=\"a\"}[1m])", 60, 120, 60);
        Assert.Equal("{app=\"a\"} 60=1 120=1", Render(result));
    }

    [Fact]
    public void Offset_shifts_the_window_but_not_the_timestamp()
    {
        var source = new InMemorySampleSource().Add("app=a", (60, 0), (90, 0), (120, 0), (180, 0));
        Assert.Equal("{app=\"a\"} 180=2", Render(Instant(source, "count_over_time({app=\"a\"}[1m] offset 1m)", 180)));
        Assert.Equal(InMemorySampleSource.Ns(60), source.Selections[0].StartExclusiveNs);
        Assert.Equal(InMemorySampleSource.Ns(120), source.Selections[0].EndInclusiveNs);
    }

    [Fact]
    public void Range_grouping_merges_series_before_the_function()
    {
        var source = new InMemorySampleSource()
            .Add("app=a,pod=1", (100, 1))
            .Add("app=a,pod=2", (100, 2), (110, 3))
            .Add("app=b,pod=3", (105, 10));
        var result = Instant(source, "avg_over_time({app=~\".+\"} | unwrap v [1m]) by (app)", 120);
        Assert.Equal("{app=\"a\"} 120=2\n{app=\"b\"} 120=10", Render(result));
        var without = Instant(source, "max_over_time({app=~\".+\"} | unwrap v [1m]) without (pod)", 120);
        Assert.Equal("{app=\"a\"} 120=3\n{app=\"b\"} 120=10", Render(without));
    }

    [Fact]
    public void Series_with_equal_labels_from_different_cursors_are_one_series()
    {
        var source = new InMemorySampleSource().Add("app=a", (100, 0)).Add("app=a", (110, 0));
        Assert.Equal("{app=\"a\"} 120=2", Render(Instant(source, "count_over_time({app=\"a\"}[1m])", 120)));
    }

    [Fact]
    public void Min_and_max_ignore_nan_unless_all_nan()
    {
        var source = new InMemorySampleSource().Add("app=a", (100, double.NaN), (110, 3), (115, double.NaN)).Add("app=b", (100, double.NaN));
        Assert.Equal("{app=\"a\"} 120=3\n{app=\"b\"} 120=NaN", Render(Instant(source, "max_over_time({app=~\"a|b\"} | unwrap v [1m])", 120)));
        Assert.Equal("{app=\"a\"} 120=3\n{app=\"b\"} 120=NaN", Render(Instant(source, "min_over_time({app=~\"a|b\"} | unwrap v [1m])", 120)));
    }

    [Fact]
    public void Avg_over_time_keeps_same_sign_infinity_and_gives_nan_for_mixed()
    {
        var source = new InMemorySampleSource()
            .Add("app=a", (100, double.PositiveInfinity), (110, 3), (115, double.PositiveInfinity))
            .Add("app=b", (100, double.PositiveInfinity), (110, double.NegativeInfinity));
        Assert.Equal("{app=\"a\"} 120=+Inf\n{app=\"b\"} 120=NaN", Render(Instant(source, "avg_over_time({app=~\"a|b\"} | unwrap v [1m])", 120)));
    }

    [Fact]
    public void First_and_last_take_the_edges_of_the_window()
    {
        var source = new InMemorySampleSource().Add("app=a", (60, 1), (61, 2), (90, 3), (120, 4), (121, 5));
        Assert.Equal("{app=\"a\"} 120=2", Render(Instant(source, "first_over_time({app=\"a\"} | unwrap v [1m])", 120)));
        Assert.Equal("{app=\"a\"} 120=4", Render(Instant(source, "last_over_time({app=\"a\"} | unwrap v [1m])", 120)));
    }

    [Fact]
    public void Samples_with_a_pipeline_error_fail_the_query_with_lokis_text()
    {
        var source = new InMemorySampleSource().Add("__error__=SampleExtractionErr,app=a", (100, 0));
        var error = Assert.Throws<MetricQueryException>(() => Instant(source, "sum_over_time({app=\"a\"} | unwrap v [1m])", 120));
        Assert.Equal(MetricQueryErrorKind.Pipeline, error.Kind);
        Assert.Equal(400, error.HttpStatus);
        Assert.Equal(
            "pipeline error: 'SampleExtractionErr' for series: '{__error__=\"SampleExtractionErr\", app=\"a\"}'.\n" +
            "Use a label filter to intentionally skip this error. (e.g | __error__!=\"SampleExtractionErr\").\n" +
            "To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n" +
            "The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n",
            error.Message);
    }

    [Fact]
    public void Errored_samples_keep_their_labels_through_range_grouping()
    {
        var source = new InMemorySampleSource().Add("__error__=JSONParserErr,app=a,pod=1", (100, 0));
        var error = Assert.Throws<MetricQueryException>(() => Instant(source, "sum by (app) (count_over_time({app=\"a\"}[1m]))", 120));
        Assert.Contains("for series: '{__error__=\"JSONParserErr\", app=\"a\", pod=\"1\"}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Preserved_errors_do_not_fail_the_query()
    {
        var source = new InMemorySampleSource().Add("__error__=JSONParserErr,__preserve_error__=true,app=a", (100, 0));
        var result = Instant(source, "count_over_time({app=\"a\"}[1m])", 120);
        Assert.Single(((VectorResult)result).Samples);
    }

    [Fact]
    public void Errors_outside_every_window_are_never_seen()
    {
        var source = new InMemorySampleSource().Add("__error__=JSONParserErr,app=a", (100, 0)).Add("app=a", (115, 0));
        Assert.Equal("{app=\"a\"} 120=1", Render(Range(source, "count_over_time({app=\"a\"}[10s])", 60, 180, 60)));
    }
}

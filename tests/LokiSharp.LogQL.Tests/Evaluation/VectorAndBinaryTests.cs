using LokiSharp.LogQL.Evaluation;
using static LokiSharp.LogQL.Tests.Evaluation.Eval;

namespace LokiSharp.LogQL.Tests.Evaluation;

public sealed class VectorAggregationTests
{
    private const string Counts = "count_over_time({app=~\".+\"}[1m])";

    // At t=120 the counts are a/1 = 1, a/2 = 2, b/3 = 3.
    private static InMemorySampleSource Pods() => new InMemorySampleSource()
        .Add("app=a,pod=1", (100, 0))
        .Add("app=a,pod=2", (100, 0), (110, 0))
        .Add("app=b,pod=3", (100, 0), (110, 0), (115, 0));

    [Theory]
    [InlineData("sum by (app) (" + Counts + ")", "{app=\"a\"} 120=3\n{app=\"b\"} 120=3")]
    [InlineData("sum(" + Counts + ") by (app)", "{app=\"a\"} 120=3\n{app=\"b\"} 120=3")]
    [InlineData("sum without (pod) (" + Counts + ")", "{app=\"a\"} 120=3\n{app=\"b\"} 120=3")]
    [InlineData("sum(" + Counts + ")", "{} 120=6")]
    [InlineData("sum by (nothing) (" + Counts + ")", "{} 120=6")]
    [InlineData("avg by (app) (" + Counts + ")", "{app=\"a\"} 120=1.5\n{app=\"b\"} 120=3")]
    [InlineData("count(" + Counts + ")", "{} 120=3")]
    [InlineData("count by (app) (" + Counts + ")", "{app=\"a\"} 120=2\n{app=\"b\"} 120=1")]
    [InlineData("max(" + Counts + ")", "{} 120=3")]
    [InlineData("min by (app) (" + Counts + ")", "{app=\"a\"} 120=1\n{app=\"b\"} 120=3")]
    [InlineData("stdvar by (app) (" + Counts + ")", "{app=\"a\"} 120=0.25\n{app=\"b\"} 120=0")]
    [InlineData("stddev by (app) (" + Counts + ")", "{app=\"a\"} 120=0.5\n{app=\"b\"} 120=0")]
    [InlineData("topk(2, " + Counts + ")", "{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData("topk(1, " + Counts + ") by (app)", "{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData("bottomk(1, " + Counts + ")", "{app=\"a\", pod=\"1\"} 120=1")]
    [InlineData("approx_topk(1, " + Counts + ")", "{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData("sort_desc(" + Counts + ")", "{app=\"b\", pod=\"3\"} 120=3\n{app=\"a\", pod=\"2\"} 120=2\n{app=\"a\", pod=\"1\"} 120=1")]
    [InlineData("sort(" + Counts + ")", "{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3")]
    public void Instant_aggregations(string query, string expected) =>
        Assert.Equal(expected, Render(Instant(Pods(), query, 120)));

    [Fact]
    public void Stddev_over_three_values()
    {
        var result = (VectorResult)Instant(Pods(), "stddev(" + Counts + ")", 120);
        Assert.Equal(Math.Sqrt(2.0 / 3), Assert.Single(result.Samples).Value);
    }

    [Fact]
    public void Sort_desc_in_a_range_query_is_ordered_by_labels()
    {
        var result = Range(Pods(), "sort_desc(" + Counts + ")", 120, 120, 60);
        Assert.Equal("{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3", Render(result));
    }

    [Fact]
    public void Approx_topk_is_refused_on_range_queries()
    {
        var error = Assert.Throws<MetricQueryException>(() => Range(Pods(), "approx_topk(1, " + Counts + ")", 60, 120, 60));
        Assert.Equal("count min sketches are only supported on instant queries", error.Message);
    }

    [Fact]
    public void Max_ignores_nan_and_sum_propagates_it()
    {
        var source = new InMemorySampleSource().Add("app=a", (100, double.NaN)).Add("app=b", (100, 5));
        const string inner = "max_over_time({app=~\"a|b\"} | unwrap v [1m])";
        Assert.Equal("{} 120=5", Render(Instant(source, "max(" + inner + ")", 120)));
        Assert.Equal("{} 120=NaN", Render(Instant(source, "sum(" + inner + ")", 120)));
        Assert.Equal("{app=\"b\"} 120=5", Render(Instant(source, "topk(1, " + inner + ")", 120)));
    }

    [Fact]
    public void Topk_keeps_lokis_choice_among_ties()
    {
        var source = new InMemorySampleSource();
        foreach (var pod in new[] { "1", "2", "3", "4" })
        {
            source.Add("app=a,pod=" + pod, (100, 0));
        }

        // Fed in label order, Go's heap keeps the first two equal samples it saw.
        var result = Instant(source, "topk(2, count_over_time({app=\"a\"}[1m]))", 120);
        Assert.Equal(2, ((VectorResult)result).Samples.Count);
    }
}

public sealed class BinaryOperationTests
{
    private const string Counts = "count_over_time({app=~\".+\"}[1m])";

    private static InMemorySampleSource Pods() => new InMemorySampleSource()
        .Add("app=a,pod=1", (100, 0))
        .Add("app=a,pod=2", (100, 0), (110, 0))
        .Add("app=b,pod=3", (100, 0), (110, 0), (115, 0));

    [Theory]
    [InlineData(Counts + " * 2", "{app=\"a\", pod=\"1\"} 120=2\n{app=\"a\", pod=\"2\"} 120=4\n{app=\"b\", pod=\"3\"} 120=6")]
    [InlineData("2 - " + Counts, "{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=0\n{app=\"b\", pod=\"3\"} 120=-1")]
    [InlineData(Counts + " / 0", "{app=\"a\", pod=\"1\"} 120=NaN\n{app=\"a\", pod=\"2\"} 120=NaN\n{app=\"b\", pod=\"3\"} 120=NaN")]
    [InlineData(Counts + " % 0", "{app=\"a\", pod=\"1\"} 120=NaN\n{app=\"a\", pod=\"2\"} 120=NaN\n{app=\"b\", pod=\"3\"} 120=NaN")]
    [InlineData(Counts + " % 2", "{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=0\n{app=\"b\", pod=\"3\"} 120=1")]
    [InlineData(Counts + " ^ 2", "{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=4\n{app=\"b\", pod=\"3\"} 120=9")]
    [InlineData(Counts + " > 1", "{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData("1 < " + Counts, "{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData(Counts + " == 2", "{app=\"a\", pod=\"2\"} 120=2")]
    [InlineData(Counts + " != 2", "{app=\"a\", pod=\"1\"} 120=1\n{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData(Counts + " >= bool 2", "{app=\"a\", pod=\"1\"} 120=0\n{app=\"a\", pod=\"2\"} 120=1\n{app=\"b\", pod=\"3\"} 120=1")]
    [InlineData("2 <= bool " + Counts, "{app=\"a\", pod=\"1\"} 120=0\n{app=\"a\", pod=\"2\"} 120=1\n{app=\"b\", pod=\"3\"} 120=1")]
    [InlineData(Counts + " / on (app) group_left sum by (app) (" + Counts + ")",
        "{app=\"a\", pod=\"1\"} 120=0.3333333333333333\n{app=\"a\", pod=\"2\"} 120=0.6666666666666666\n{app=\"b\", pod=\"3\"} 120=1")]
    [InlineData("sum by (app) (" + Counts + ") / on (app) group_right " + Counts,
        "{app=\"a\", pod=\"1\"} 120=3\n{app=\"a\", pod=\"2\"} 120=1.5\n{app=\"b\", pod=\"3\"} 120=1")]
    [InlineData(Counts + " > on (app) group_left sum by (app) (" + Counts + ") - 2",
        "{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData("sum by (app) (" + Counts + ") > bool on (app) group_right " + Counts,
        "{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=1\n{app=\"b\", pod=\"3\"} 120=0")]
    [InlineData("count_over_time({pod=\"1\"}[1m]) + ignoring (pod) sum by (app) (" + Counts + ")", "{app=\"a\"} 120=4")]
    [InlineData("count_over_time({pod=\"1\"}[1m]) + on (app) sum by (app) (" + Counts + ")", "{app=\"a\"} 120=4")]
    [InlineData("count_over_time({pod=\"1\"}[1m]) + on () sum(" + Counts + ")", "{} 120=7")]
    [InlineData(Counts + " - " + Counts, "{app=\"a\", pod=\"1\"} 120=0\n{app=\"a\", pod=\"2\"} 120=0\n{app=\"b\", pod=\"3\"} 120=0")]
    [InlineData(Counts + " + count_over_time({app=\"b\"}[1m])", "{app=\"b\", pod=\"3\"} 120=6")]
    [InlineData(Counts + " and on (app) count_over_time({app=\"b\"}[1m])", "{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData(Counts + " unless on (app) count_over_time({app=\"b\"}[1m])", "{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=2")]
    [InlineData("count_over_time({app=\"a\"}[1m]) or count_over_time({app=\"b\"}[1m])",
        "{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData("count_over_time({app=\"a\"}[1m]) or on (app) " + Counts,
        "{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3")]
    [InlineData(Counts + " and count_over_time({app=\"none\"}[1m])", "")]
    [InlineData(Counts + " unless count_over_time({app=\"none\"}[1m])",
        "{app=\"a\", pod=\"1\"} 120=1\n{app=\"a\", pod=\"2\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3")]
    public void Instant_binary_operations(string query, string expected) =>
        Assert.Equal(expected, Render(Instant(Pods(), query, 120)));

    [Fact]
    public void Group_left_copies_included_labels_from_the_one_side()
    {
        var source = Pods().Add("kind=team,app=a,team=t1", (100, 0)).Add("kind=team,app=b", (100, 0));
        var result = Instant(source,
            "count_over_time({pod=~\".+\"}[1m]) * on (app) group_left (team) max by (app, team) (count_over_time({kind=\"team\"}[1m]))", 120);
        Assert.Equal("{app=\"a\", pod=\"1\", team=\"t1\"} 120=1\n{app=\"a\", pod=\"2\", team=\"t1\"} 120=2\n{app=\"b\", pod=\"3\"} 120=3", Render(result));
    }

    [Fact]
    public void One_to_one_matching_with_many_left_matches_fails()
    {
        var error = Assert.Throws<MetricQueryException>(() => Instant(Pods(), Counts + " / on (app) sum by (app) (" + Counts + ")", 120));
        Assert.Equal("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)", error.Message);
        Assert.Equal(500, error.HttpStatus);
    }

    [Fact]
    public void Duplicate_series_on_the_one_side_fail()
    {
        var right = Assert.Throws<MetricQueryException>(() => Instant(Pods(), "sum by (app) (" + Counts + ") / on (app) " + Counts, 120));
        Assert.Equal("found duplicate series on the right hand-side;many-to-many matching not allowed: matching labels must be unique on one side", right.Message);
        var left = Assert.Throws<MetricQueryException>(() => Instant(Pods(), Counts + " / on (app) group_right sum by (app) (" + Counts + ")", 120));
        Assert.Equal("found duplicate series on the left hand-side;many-to-many matching not allowed: matching labels must be unique on one side", left.Message);
    }

    [Fact]
    public void Grouping_labels_that_collapse_many_side_series_fail()
    {
        var source = new InMemorySampleSource()
            .Add("app=a,x=1", (100, 0))
            .Add("app=a,x=2", (100, 0))
            .Add("kind=one,app=a,x=9", (100, 0));
        var error = Assert.Throws<MetricQueryException>(() => Instant(source,
            "count_over_time({x=~\"1|2\"}[1m]) * on (app) group_left (x) max by (app, x) (count_over_time({kind=\"one\"}[1m]))", 120));
        Assert.Equal("multiple matches for labels: grouping labels must ensure unique matches", error.Message);
    }

    [Fact]
    public void Or_vector_fills_missing_steps()
    {
        var source = new InMemorySampleSource().Add("app=a", (100, 0));
        var result = Range(source, "sum(count_over_time({app=\"a\"}[30s])) or vector(0)", 60, 180, 60);
        Assert.Equal("{} 60=0 120=1 180=0", Render(result));
    }

    [Fact]
    public void Label_replace_sets_deletes_or_leaves_labels()
    {
        var source = new InMemorySampleSource().Add("app=a,pod=web-1", (100, 0));
        const string inner = "count_over_time({app=\"a\"}[1m])";
        Assert.Equal("{app=\"a\", name=\"web\", pod=\"web-1\"} 120=1",
            Render(Instant(source, "label_replace(" + inner + ", \"name\", \"$1\", \"pod\", \"(.*)-[0-9]+\")", 120)));
        Assert.Equal("{app=\"a\", name=\"web/1\", pod=\"web-1\"} 120=1",
            Render(Instant(source, "label_replace(" + inner + ", \"name\", \"${kind}/$2\", \"pod\", \"(?P<kind>[a-z]+)-([0-9]+)\")", 120)));
        Assert.Equal("{app=\"a\", pod=\"web-1\"} 120=1",
            Render(Instant(source, "label_replace(" + inner + ", \"name\", \"$1\", \"pod\", \"db-(.*)\")", 120)));
        Assert.Equal("{pod=\"web-1\"} 120=1",
            Render(Instant(source, "label_replace(" + inner + ", \"app\", \"$9\", \"pod\", \".*\")", 120)));
        Assert.Equal("{app=\"a\", pod=\"web-1\", x=\"$1x-$\"} 120=1",
            Render(Instant(source, "label_replace(" + inner + ", \"x\", \"$$1${1}x-$\", \"pod\", \"(z?)web-1\")", 120)));
    }

    [Fact]
    public void Label_replace_fails_a_replacement_that_expands_past_a_million_characters()
    {
        // A 100-character group repeated 10,000 times fits; 20,000 times (a 40 KB query) would be 2 million characters.
        var pod = new string('p', 100);
        var source = new InMemorySampleSource().Add("app=a,pod=" + pod, (100, 0));
        const string inner = "count_over_time({app=\"a\"}[1m])";
        string Query(int references) =>
            "label_replace(" + inner + ", \"x\", \"" + string.Concat(Enumerable.Repeat("$1", references)) + "\", \"pod\", \"(.*)\")";

        var fits = Assert.IsType<VectorResult>(Instant(source, Query(10_000), 120));
        Assert.Equal(1_000_000, Assert.Single(fits.Samples).Labels.Get("x")!.Length);
        var error = Assert.Throws<MetricQueryException>(() => Instant(source, Query(20_000), 120));
        Assert.Equal(MetricQueryErrorKind.BadRequest, error.Kind);
        Assert.Equal("label_replace: the replacement for \"x\" expands to more than 1048576 characters", error.Message);
    }
}

using LokiSharp.Querier.Requests;

namespace LokiSharp.Querier.Tests;

public sealed class RequestBoundsTests
{
    private const long Now = 1_700_000_000_000_000_000;
    private const long S = 1_000_000_000;
    private const long Hour = 3600 * S;

    private sealed class Parameters(params (string Name, string Value)[] values) : IRequestParameters
    {
        public string? Get(string name)
        {
            foreach (var (n, v) in values)
            {
                if (n == name)
                {
                    return v;
                }
            }

            return null;
        }
    }

    private static string Refused(Func<object> call) => Assert.Throws<QueryRequestException>(() => call()).Message;

    [Fact]
    public void Bounds_default_to_the_last_hour_and_since_moves_start()
    {
        Assert.Equal(new RequestBounds(Now - Hour, Now), RequestBounds.Parse(new Parameters(), Now));
        Assert.Equal(new RequestBounds(Now - (300 * S), Now), RequestBounds.Parse(new Parameters(("since", "5m")), Now));
        Assert.Equal("could not parse 'since' parameter: ", Refused(() => RequestBounds.Parse(new Parameters(("since", "soon")), Now))[..35]);
    }

    [Fact]
    public void The_default_start_is_since_before_the_end_when_the_end_is_in_the_past()
    {
        var end = Now - (10 * Hour);
        Assert.Equal(new RequestBounds(end - Hour, end), RequestBounds.Parse(new Parameters(("end", (end / S).ToString(System.Globalization.CultureInfo.InvariantCulture))), Now));
        Assert.Equal(new RequestBounds(Now - Hour, Now + Hour), RequestBounds.Parse(null, (Now + Hour).ToString(System.Globalization.CultureInfo.InvariantCulture), null, Now));
    }

    [Fact]
    public void Bad_start_and_end_name_the_parameter()
    {
        Assert.Equal("could not parse 'end' parameter: strconv.ParseInt: parsing \"later\": invalid syntax",
            Refused(() => RequestBounds.Parse(new Parameters(("start", "soon"), ("end", "later")), Now)));
        Assert.Equal("could not parse 'start' parameter: strconv.ParseInt: parsing \"soon\": invalid syntax",
            Refused(() => RequestBounds.Parse(new Parameters(("start", "soon")), Now)));
    }

    [Fact]
    public void End_before_start_is_refused_only_where_ordered()
    {
        var reversed = new Parameters(("start", "1700000002"), ("end", "1700000001"));

        Assert.Equal(new RequestBounds(1_700_000_002 * S, 1_700_000_001 * S), RequestBounds.Parse(reversed, Now));
        Assert.Equal("end timestamp must not be before or equal to start time", Refused(() => RequestBounds.ParseOrdered(reversed, Now)));
        Assert.Equal(new RequestBounds(5 * S, 5 * S), RequestBounds.ParseOrdered(new Parameters(("start", "5"), ("end", "5")), Now));
    }

    [Fact]
    public void Tailing_reads_start_alone()
    {
        var parameters = new Parameters(("end", "1600000000"), ("since", "5m"));
        Assert.Equal(new RequestBounds(Now - Hour, Now), RequestBounds.ParseStartOnly(parameters, Now));
        Assert.Equal(new RequestBounds(1_690_000_000 * S, Now), RequestBounds.ParseStartOnly(new Parameters(("start", "1690000000")), Now));
    }

    [Fact]
    public void Metadata_queries_include_the_end() => Assert.Equal(11, new RequestBounds(1, 10).Through);

    [Theory]
    [InlineData("15", 15_000_000_000)]
    [InlineData("0.5", 500_000_000)]
    [InlineData("2s", 2_000_000_000)]
    [InlineData("1h30m", 5_400_000_000_000)]
    public void Steps_are_seconds_or_durations(string text, long expected) =>
        Assert.Equal(expected, new RequestBounds(Now - Hour, Now).ParseStep(new Parameters(("step", text))));

    [Fact]
    public void The_default_step_is_a_250th_of_the_range_but_at_least_a_second()
    {
        Assert.Equal(14_000_000_000, new RequestBounds(Now - Hour, Now).ParseStep(new Parameters()));
        Assert.Equal(1_000_000_000, new RequestBounds(Now - (60 * S), Now).ParseStep((string?)null));
    }

    [Theory]
    [InlineData("0", "zero or negative query resolution step widths are not accepted. Try a positive integer")]
    [InlineData("-1", "zero or negative query resolution step widths are not accepted. Try a positive integer")]
    [InlineData("0.1", "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter")]
    [InlineData("often", "cannot parse \"often\" to a valid duration")]
    public void Bad_steps_get_Lokis_text(string text, string expected) =>
        Assert.Equal(expected, Refused(() => new RequestBounds(Now - Hour, Now).ParseStep(text)));

    [Fact]
    public void The_query_length_limit_names_both_lengths()
    {
        new RequestBounds(0, 721 * Hour).CheckLength(TimeSpan.FromHours(721));
        new RequestBounds(0, 800 * Hour).CheckLength(TimeSpan.Zero);
        Assert.Equal("the query time range exceeds the limit (query length: 722h0m0s, limit: 30d1h)",
            Assert.Throws<QueryRequestException>(() => new RequestBounds(0, 722 * Hour).CheckLength(TimeSpan.FromHours(721))).Message);
    }

    [Fact]
    public void The_lookback_limit_moves_the_start_only()
    {
        var bounds = new RequestBounds(Now - (10 * Hour), Now - Hour);
        Assert.Equal(bounds, bounds.ClampLookback(TimeSpan.Zero, Now));
        Assert.Equal(new RequestBounds(Now - (2 * Hour), Now - Hour), bounds.ClampLookback(TimeSpan.FromHours(2), Now));
        Assert.Equal(bounds, bounds.ClampLookback(TimeSpan.FromHours(20), Now));
    }

    [Theory]
    // Split on (Loki's default 1h): start rounded down, end rounded up to a multiple of the step.
    [InlineData(1_700_000_007, 1_700_003_607, false, true, 1_699_999_800, 1_700_003_700)]
    // Already aligned: nothing moves.
    [InlineData(1_699_999_800, 1_700_003_700, false, true, 1_699_999_800, 1_700_003_700)]
    // align_queries_with_step alone: both rounded down.
    [InlineData(1_700_000_007, 1_700_003_607, true, false, 1_699_999_800, 1_700_003_400)]
    // Both: rounded down first, so the end stays where the step alignment put it.
    [InlineData(1_700_000_007, 1_700_003_607, true, true, 1_699_999_800, 1_700_003_400)]
    // Both off: the bounds as given.
    [InlineData(1_700_000_007, 1_700_003_607, false, false, 1_700_000_007, 1_700_003_607)]
    public void Metric_range_bounds_follow_the_frontend(long start, long end, bool alignWithStep, bool split, long wantStart, long wantEnd) =>
        Assert.Equal(new RequestBounds(wantStart * S, wantEnd * S),
            new RequestBounds(start * S, end * S).AlignToStep(300 * S, alignWithStep, split ? Hour : 0));
}

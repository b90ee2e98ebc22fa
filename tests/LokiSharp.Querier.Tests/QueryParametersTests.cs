using LokiSharp.Querier.Requests;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Tests;

public sealed class QueryParametersTests
{
    private const long Now = 1_700_000_000_000_000_000;

    [Theory]
    [InlineData("1700000000", 1_700_000_000_000_000_000)]
    [InlineData("1700000000123456789", 1_700_000_000_123_456_789)]
    [InlineData("1700000000.5", 1_700_000_000_500_000_000)]
    [InlineData("1700000000.1234", 1_700_000_000_123_000_000)]
    [InlineData("2023-11-14T22:13:20Z", 1_700_000_000_000_000_000)]
    [InlineData("2023-11-14T22:13:20.123456789Z", 1_700_000_000_123_456_789)]
    [InlineData("2023-11-15T00:13:20+02:00", 1_700_000_000_000_000_000)]
    [InlineData("4000000000", 4_000_000_000_000_000_000)]
    public void Timestamps_in_every_form_Loki_accepts(string text, long expected) =>
        Assert.Equal(expected, QueryParameters.ParseTimestamp(text, 0, "start"));

    [Fact]
    public void A_bad_timestamp_names_the_parameter() =>
        Assert.Equal("could not parse 'end' parameter: strconv.ParseInt: parsing \"yesterday\": invalid syntax",
            Assert.Throws<QueryRequestException>(() => QueryParameters.ParseTimestamp("yesterday", 0, "end")).Message);

    [Fact]
    public void Bounds_default_to_the_last_hour_and_since_moves_start()
    {
        Assert.Equal((Now - 3_600_000_000_000, Now), QueryParameters.ParseBounds(null, null, null, Now));
        Assert.Equal((Now - 300_000_000_000, Now), QueryParameters.ParseBounds(null, null, "5m", Now));
        Assert.Equal(("could not parse 'since' parameter: "), (Assert.Throws<QueryRequestException>(() => QueryParameters.ParseBounds(null, null, "soon", Now)).Message[..35]));
    }

    [Theory]
    [InlineData(null, 100)]
    [InlineData("5000", 5000)]
    public void Limits_default_to_100(string? text, int expected) => Assert.Equal(expected, QueryParameters.ParseLimit(text));

    [Theory]
    [InlineData("0", "limit must be a positive value")]
    [InlineData("-3", "limit must be a positive value")]
    [InlineData("many", "strconv.Atoi: parsing \"many\": invalid syntax")]
    public void Bad_limits_get_Lokis_text(string text, string expected) =>
        Assert.Equal(expected, Assert.Throws<QueryRequestException>(() => QueryParameters.ParseLimit(text)).Message);

    [Fact]
    public void Direction_is_case_insensitive_and_defaults_to_backward()
    {
        Assert.Equal(Direction.Backward, QueryParameters.ParseDirection(null));
        Assert.Equal(Direction.Forward, QueryParameters.ParseDirection("FORWARD"));
        Assert.Equal(Direction.Forward, QueryParameters.ParseDirection("forward"));
        Assert.Equal("invalid direction 'sideways'", Assert.Throws<QueryRequestException>(() => QueryParameters.ParseDirection("sideways")).Message);
    }

    [Theory]
    [InlineData("15", 15_000_000_000)]
    [InlineData("0.5", 500_000_000)]
    [InlineData("2s", 2_000_000_000)]
    [InlineData("1h30m", 5_400_000_000_000)]
    public void Steps_are_seconds_or_durations(string text, long expected) =>
        Assert.Equal(expected, QueryParameters.ParseStep(text, Now - 3_600_000_000_000, Now));

    [Fact]
    public void The_default_step_is_a_250th_of_the_range_but_at_least_a_second()
    {
        Assert.Equal(14_000_000_000, QueryParameters.ParseStep(null, Now - 3_600_000_000_000, Now));
        Assert.Equal(1_000_000_000, QueryParameters.ParseStep(null, Now - 60_000_000_000, Now));
    }

    [Theory]
    [InlineData("0", "zero or negative query resolution step widths are not accepted. Try a positive integer")]
    [InlineData("-1", "zero or negative query resolution step widths are not accepted. Try a positive integer")]
    [InlineData("0.1", "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter")]
    [InlineData("often", "cannot parse \"often\" to a valid duration")]
    public void Bad_steps_get_Lokis_text(string text, string expected) =>
        Assert.Equal(expected, Assert.Throws<QueryRequestException>(() => QueryParameters.ParseStep(text, Now - 3_600_000_000_000, Now)).Message);

    [Fact]
    public void Interval_must_not_be_negative() =>
        Assert.Equal("interval must be >= 0", Assert.Throws<QueryRequestException>(() => QueryParameters.ParseInterval("-1")).Message);

    [Fact]
    public void End_before_start_is_refused() =>
        Assert.Equal("end timestamp must not be before or equal to start time", Assert.Throws<QueryRequestException>(() => QueryParameters.CheckBounds(2, 1)).Message);
}

/// <summary>Metric range queries evaluate at the bounds Loki's query frontend gives them.</summary>
public sealed class MetricRangeAlignmentTests
{
    private const long S = 1_000_000_000;
    private const long Hour = 3600 * S;

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
    public void Bounds_follow_the_frontend(long start, long end, bool alignWithStep, bool split, long wantStart, long wantEnd)
    {
        var (s, e) = QueryParameters.AlignMetricRange(start * S, end * S, 300 * S, alignWithStep, split ? Hour : 0);

        Assert.Equal((wantStart * S, wantEnd * S), (s, e));
    }
}

using LokiSharp.Querier.Metadata;
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

    [Fact]
    public void Interval_must_not_be_negative() =>
        Assert.Equal("interval must be >= 0", Assert.Throws<QueryRequestException>(() => QueryParameters.ParseInterval("-1")).Message);

    [Fact]
    public void The_entries_limit_per_query_names_both_numbers()
    {
        QueryParameters.CheckEntriesLimit(5000, 5000);
        QueryParameters.CheckEntriesLimit(9000, 0);
        Assert.Equal("max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)",
            Assert.Throws<QueryRequestException>(() => QueryParameters.CheckEntriesLimit(5001, 5000)).Message);
    }

    [Fact]
    public void Volume_limit_zero_means_the_default_and_aggregation_is_series_or_labels()
    {
        Assert.Equal(100, QueryParameters.ParseVolumeLimit("0"));
        Assert.Equal(100, QueryParameters.ParseVolumeLimit(null));
        Assert.Equal(7, QueryParameters.ParseVolumeLimit("7"));
        Assert.Equal("limit must be a positive value", Assert.Throws<QueryRequestException>(() => QueryParameters.ParseVolumeLimit("-1")).Message);
        Assert.Equal(VolumeAggregation.Series, QueryParameters.ParseVolumeAggregation(null));
        Assert.Equal(VolumeAggregation.Series, QueryParameters.ParseVolumeAggregation("series"));
        Assert.Equal(VolumeAggregation.Labels, QueryParameters.ParseVolumeAggregation("labels"));
        Assert.Equal("invalid aggregation option", Assert.Throws<QueryRequestException>(() => QueryParameters.ParseVolumeAggregation("pods")).Message);
    }
}

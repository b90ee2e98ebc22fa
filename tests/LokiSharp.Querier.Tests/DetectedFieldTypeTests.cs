using LokiSharp.Querier.Detected;

namespace LokiSharp.Querier.Tests;

/// <summary>Field type detection and value normalisation as Loki's detected_fields does them.</summary>
public sealed class DetectedFieldTypeTests
{
    [Theory]
    [InlineData("42", "int")]
    [InlineData("-7", "int")]
    [InlineData("+3", "int")]
    [InlineData("1", "int")]
    [InlineData("9223372036854775808", "float")]
    [InlineData("0.5", "float")]
    [InlineData("1e3", "float")]
    [InlineData("NaN", "float")]
    [InlineData("true", "boolean")]
    [InlineData("F", "boolean")]
    [InlineData("15ms", "duration")]
    [InlineData("1h30m", "duration")]
    [InlineData("10KB", "bytes")]
    [InlineData("1.5 MiB", "bytes")]
    [InlineData("hello", "string")]
    [InlineData("", "string")]
    [InlineData("yes", "string")]
    public void Detects_the_first_type_that_parses(string value, string expected) =>
        Assert.Equal(expected, FieldTypes.Detect(value));

    [Theory]
    [InlineData("10KB", "10kB")]
    [InlineData("2MB", "2.0MB")]
    [InlineData("1536KiB", "1.6MB")]
    [InlineData("512", "512")]
    [InlineData("GET", "GET")]
    public void Normalises_byte_sizes_with_a_unit(string value, string expected) =>
        Assert.Equal(expected, FieldTypes.NormaliseValue(value));

    [Fact]
    public void Labels_whose_values_are_all_ids_are_left_out_but_flags_are_kept()
    {
        Assert.True(DetectedLabelsQuery.AllIds(["17", "18", "19"]));
        Assert.True(DetectedLabelsQuery.AllIds(["0b6c5c0e-5e0b-4f5e-9c7a-2f2a7b1d2c3e"]));
        Assert.False(DetectedLabelsQuery.AllIds(["0", "1"]));
        Assert.False(DetectedLabelsQuery.AllIds(["17", "api"]));
    }
}

using System.Text;
using LokiSharp.Ingester.Otlp;
using LokiSharp.Ingester.Push;
using LokiSharp.Tests.Shared;
using static LokiSharp.Ingester.Tests.Otlp.OtlpMappingTests;

namespace LokiSharp.Ingester.Tests;

/// <summary>
/// JSON bodies with invalid UTF-8 or lone surrogate escapes decode (Go reads them as U+FFFD) instead of failing the
/// push; malformed JSON of any other kind is a 400 with the reader's reason, never another exception.
/// </summary>
public sealed class InvalidUtf8Tests
{
    private const string Fffd = "\uFFFD";

    private static (string Labels, byte[] Line, string Metadata) Single(PushBatch batch)
    {
        var stream = Assert.Single(batch.Streams);
        var entry = Assert.Single(batch.EntriesOf(stream).ToArray());
        var metadata = string.Join(",", batch.Metadata(entry).ToArray().Select(p => p.Name + "=" + p.Value));
        return (stream.Labels, batch.Line(entry).ToArray(), metadata);
    }

    [Fact]
    public void Invalid_bytes_in_a_v1_line_label_and_metadata_decode_as_U_FFFD()
    {
        var json = HostileBodies.WithRawBytes("""{"streams":[{"stream":{"app":"aBADb"},"values":[["1","xBADy",{"kBAD":"vBAD"}]]}]}""", 0xff, 0xfe);

        using var batch = PushBodyDecoder.Decode(json, "application/json", null, PushEndpoint.V1);
        var (labels, line, metadata) = Single(batch);

        Assert.Equal($"{{app=\"a{Fffd}{Fffd}b\"}}", labels);
        Assert.Equal("x"u8.ToArray().Concat(new byte[] { 0xff, 0xfe }).Concat("y"u8.ToArray()), line);
        Assert.Equal($"x{Fffd}{Fffd}y", Encoding.UTF8.GetString(line));
        Assert.Equal($"k{Fffd}{Fffd}=v{Fffd}{Fffd}", metadata);
    }

    [Fact]
    public void Invalid_bytes_next_to_escapes_keep_the_escapes_resolved()
    {
        var json = HostileBodies.WithRawBytes("""{"streams":[{"stream":{"app":"\"BAD\""},"values":[["1","say \"hi\"\tBAD\u00e9\n",{"k":"\\BAD"}]]}]}""", 0xc3);

        using var batch = PushBodyDecoder.Decode(json, "application/json", null, PushEndpoint.V1);
        var (labels, line, metadata) = Single(batch);

        Assert.Equal($"{{app=\"\\\"{Fffd}\\\"\"}}", labels);
        Assert.Equal($"say \"hi\"\t{Fffd}é\n", Encoding.UTF8.GetString(line));
        Assert.Equal($"k=\\{Fffd}", metadata);
    }

    [Fact]
    public void Lone_surrogate_escapes_decode_as_U_FFFD_and_pairs_as_their_character()
    {
        const string json = """{"streams":[{"stream":{"app":"\ud800x"},"values":[["1","a\udc00b\ud83d\ude00c\ud83dd",{"k":"\ude00"}]]}]}""";

        using var batch = PushBodyDecoder.Decode(Encoding.UTF8.GetBytes(json), "application/json", null, PushEndpoint.V1);
        var (labels, line, metadata) = Single(batch);

        Assert.Equal($"{{app=\"{Fffd}x\"}}", labels);
        Assert.Equal($"a{Fffd}b😀c{Fffd}d", Encoding.UTF8.GetString(line));
        Assert.Equal($"k={Fffd}", metadata);
    }

    [Fact]
    public void Invalid_bytes_in_a_legacy_push_decode_as_U_FFFD()
    {
        var json = HostileBodies.WithRawBytes("""{"streams":[{"labels":"{app=\"aBAD\"}","entries":[{"ts":"2023-11-14T22:13:20Z","line":"xBAD","structuredMetadata":{"k":"vBAD"}}]}]}""", 0x80);

        using var batch = PushBodyDecoder.Decode(json, "application/json", null, PushEndpoint.Legacy);
        var (labels, line, metadata) = Single(batch);

        Assert.Equal($"{{app=\"a{Fffd}\"}}", labels);
        Assert.Equal($"x{Fffd}", Encoding.UTF8.GetString(line));
        Assert.Equal($"k=v{Fffd}", metadata);
    }

    [Fact]
    public void Invalid_bytes_and_lone_surrogates_in_OTLP_JSON_decode_as_U_FFFD()
    {
        var json = HostileBodies.WithRawBytes("""
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"apiBAD"}}]},
              "scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000","body":{"stringValue":"helloBAD\ud800"},
                "attributes":[{"key":"user","value":{"stringValue":"\udc00uBAD"}}]}]}]}]}
            """, 0xff);

        using var batch = OtlpLogsDecoder.Decode(json, "application/json", null, new OtlpMapping(), 5);

        Assert.Equal(
            [($"{{service_name=\"api{Fffd}\"}}", 1_700_000_000_000_000_000, $"hello{Fffd}{Fffd}", $"user={Fffd}u{Fffd}")],
            Rows(batch));
    }

    [Theory]
    [InlineData("say \\\"hi\\\"", "say \"hi\"")]
    [InlineData("\\\\\\/\\b\\f\\n\\r\\t", "\\/\b\f\n\r\t")]
    [InlineData("\\u0041\\u00e9\\u20ac\\ud83d\\ude00", "Aé€😀")]
    [InlineData("\\ud800\\ud800\\udc00", "\uFFFD𐀀")]
    [InlineData("\\udc00", "\uFFFD")]
    [InlineData("end\\ud83d", "end\uFFFD")]
    public void Unescape_resolves_every_JSON_escape(string escaped, string expected)
    {
        var input = Encoding.UTF8.GetBytes(escaped);
        var output = new byte[input.Length];

        var written = JsonStrings.Unescape(input, output);

        Assert.Equal(expected, Encoding.UTF8.GetString(output, 0, written));
        Assert.Equal(expected, JsonStrings.UnescapeToString(input));
    }

    [Fact]
    public void Only_lone_surrogate_escapes_are_replaced_in_a_document()
    {
        var json = Encoding.UTF8.GetBytes("""{"a":"\\ud800 \ud83d\ude00 \ud800x \udc00 \u0041"}""");

        var repaired = JsonStrings.ReplaceLoneSurrogateEscapes(json);

        Assert.Equal("""{"a":"\\ud800 \ud83d\ude00 \ufffdx \ufffd \u0041"}""", Encoding.UTF8.GetString(repaired!));
        Assert.Null(JsonStrings.ReplaceLoneSurrogateEscapes("""{"a":"\ud83d\ude00"}"""u8));
    }

    public static TheoryData<string, string> MalformedV1 => new()
    {
        { """{"streams":[{"stream":{"a":"b"},"values":[["1","x""", "" },
        { """{"streams":{"a":1}}""", "\"streams\" must be an array" },
        { """{"streams":[{"stream":"a","values":[]}]}""", "\"stream\" must be an object" },
        { """{"streams":[{"stream":{"a":1},"values":[]}]}""", "label \"a\" must have a string value" },
        { """{"streams":[{"stream":{"a":"b"},"values":[["1",2]]}]}""", "the log line must be a string" },
        { """{"streams":[{"stream":{"a":"b"},"values":{"x":1}}]}""", "\"values\" must be an array" },
        { """{"streams":[{"stream":{"a":"b"},"values":[["99999999999999999999999999","x"]]}]}""", "cannot parse timestamp" },
        { """{"streams":[{"stream":{"a":"b"},"values":[[1e999999,"x"]]}]}""", "timestamp must be a string" },
        { """{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"k":["v"]}]]}]}""", "structured metadata value of \"k\" must be a string" },
        { "[1]", "a push request must be a JSON object" },
        { "", "The input does not contain any JSON tokens" },
        { """{"streams":[{"stream":{"a":"b"},"values":[["1","\x"]]}]}""", "'x' is an invalid escapable character" },
        { """{"streams":[],"other":""" + new string('[', 70) + new string(']', 70) + "}", "maximum configured depth" },
    };

    [Theory]
    [MemberData(nameof(MalformedV1))]
    public void Malformed_v1_JSON_is_a_400_with_the_reason(string json, string reason)
    {
        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(Encoding.UTF8.GetBytes(json), "application/json", null, PushEndpoint.V1));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"streams":[{"labels":{"a":"b"},"entries":[]}]}""", "\"labels\" must be a string")]
    [InlineData("""{"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":5,"line":"x"}]}]}""", "\"ts\" must be an RFC3339 string")]
    [InlineData("""{"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":"2023-13-45T00:00:00Z","line":"x"}]}]}""", "parsing time")]
    [InlineData("""{"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":"2023-11-14T22:13:20Z","line":7}]}]}""", "each entry needs a string \"line\"")]
    [InlineData("""{"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":"2023-11-14T22:13:20Z","line":"x","structuredMetadata":{"k":1}}]}]}""", "structured metadata value of \"k\" must be a string")]
    [InlineData("""{"streams":[{"labels":"{a=\"b\"}","entries":[{"ts":"2023""", "")]
    public void Malformed_legacy_JSON_is_a_400_with_the_reason(string json, string reason)
    {
        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(Encoding.UTF8.GetBytes(json), "application/json", null, PushEndpoint.Legacy));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1e999}]}]}]}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"-5"}]}]}]}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":99999999999999999999999}]}]}]}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":1.5}]}]}]}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":5}}]}]}]}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}""")]
    [InlineData("""{"resourceLogs":"x"}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":7}]}]}]}""")]
    [InlineData("""{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":"a","severityText":"b"}]}]}]}""")]
    public void Malformed_OTLP_JSON_is_a_400(string json)
    {
        var error = Assert.Throws<PushRequestException>(() =>
        {
            using var batch = OtlpLogsDecoder.Decode(Encoding.UTF8.GetBytes(json), "application/json", null, new OtlpMapping(), 5);
            Assert.Fail(json + " => " + string.Join("\n", Rows(batch)));
        });

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("json: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deeply_nested_OTLP_JSON_is_a_400()
    {
        var value = "{\"stringValue\":\"x\"}";
        for (var i = 0; i < 70; i++)
        {
            value = "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":" + value + "}]}}";
        }

        var json = """{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":""" + value + "}]}]}]}";

        var error = Assert.Throws<PushRequestException>(() =>
            OtlpLogsDecoder.Decode(Encoding.UTF8.GetBytes(json), "application/json", null, new OtlpMapping(), 5));

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("json: ", error.Message, StringComparison.Ordinal);
    }
}

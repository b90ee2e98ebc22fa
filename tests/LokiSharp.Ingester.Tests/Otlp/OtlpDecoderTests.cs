using System.IO.Compression;
using System.Text;
using Google.Protobuf;
using LokiSharp.Ingester.Otlp;
using LokiSharp.Ingester.Otlp.Protos;
using LokiSharp.Ingester.Push;
using static LokiSharp.Ingester.Tests.Otlp.OtlpMappingTests;

namespace LokiSharp.Ingester.Tests.Otlp;

/// <summary>Body handling of <c>/otlp/v1/logs</c>: content types, encodings, OTLP/JSON and Loki's error texts.</summary>
public sealed class OtlpDecoderTests
{
    private static readonly OtlpMapping Mapping = new() { DiscoverServiceName = ["service"] };

    private static ExportLogsServiceRequest Sample()
    {
        var record = Record("hello", 1_700_000_000_000_000_001, Attr("user.id", "u1"));
        record.SeverityNumber = SeverityNumber.Warn;
        record.TraceId = ByteString.CopyFrom(Convert.FromHexString("0102030405060708090a0b0c0d0e0f10"));
        return Request([Attr("service.name", "api")], new InstrumentationScope { Name = "lib" }, record);
    }

    private const string SampleRow = "{service_name=\"api\"}|1700000000000000001|hello|user_id=u1, severity_number=13, trace_id=0102030405060708090a0b0c0d0e0f10, scope_name=lib";

    private static string Decode(byte[] body, string? contentType, string? encoding = null)
    {
        using var batch = OtlpLogsDecoder.Decode(body, contentType, encoding, Mapping, 5);
        return string.Join("\n", Rows(batch).Select(r => $"{r.Labels}|{r.Ts}|{r.Line}|{r.Metadata}"));
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    [Fact]
    public void Protobuf_plain_gzip_and_zstd_bodies_decode_alike()
    {
        var bytes = Sample().ToByteArray();
        Assert.Equal(SampleRow, Decode(bytes, "application/x-protobuf"));
        Assert.Equal(SampleRow, Decode(Gzip(bytes), "application/x-protobuf", "gzip"));
        using var zstd = new ZstdSharp.Compressor();
        Assert.Equal(SampleRow, Decode(zstd.Wrap(bytes).ToArray(), "application/x-protobuf", "zstd"));
    }

    [Fact]
    public void OTLP_JSON_uses_hex_ids_string_int64s_and_enum_names_or_numbers()
    {
        var json = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
              "scopeLogs":[{"scope":{"name":"lib"},"logRecords":[
                {"timeUnixNano":"1700000000000000001","severityNumber":"SEVERITY_NUMBER_WARN","body":{"stringValue":"hello"},
                 "attributes":[{"key":"user.id","value":{"stringValue":"u1"}}],"traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"",
                 "futureField":{"ignored":[1,2]}}]}]}]}
            """;
        Assert.Equal(SampleRow, Decode(Encoding.UTF8.GetBytes(json), "application/json"));

        var snake = """
            {"resource_logs":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"api"}}]},
              "scope_logs":[{"scope":{"name":"lib"},"log_records":[
                {"time_unix_nano":1700000000000000001,"severity_number":13,"body":{"stringValue":"hello"},
                 "attributes":[{"key":"user.id","value":{"stringValue":"u1"}}],"trace_id":"0102030405060708090a0b0c0d0e0f10"}]}]}]}
            """;
        Assert.Equal(SampleRow, Decode(Gzip(Encoding.UTF8.GetBytes(snake)), "application/json", "gzip"));
    }

    [Fact]
    public void OTLP_JSON_reads_every_value_kind()
    {
        var json = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
              "scopeLogs":[{"logRecords":[{"timeUnixNano":"7","droppedAttributesCount":1,"flags":257,"eventName":"e",
                "observedTimeUnixNano":"8","severityText":"WARN",
                "body":{"kvlistValue":{"values":[{"key":"n","value":{"intValue":"5"}},{"key":"d","value":{"doubleValue":"NaN"}}]}},
                "attributes":[{"key":"b","value":{"boolValue":true}},{"key":"i","value":{"intValue":-3}},{"key":"f","value":{"doubleValue":2.5}},
                  {"key":"y","value":{"bytesValue":"aGk="}},{"key":"a","value":{"arrayValue":{"values":[{"stringValue":"x"},{}]}}},
                  {"key":"m","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}}]}}},{"key":"nil","value":null}]}]}]}]}
            """;
        Assert.Equal(
            "{service_name=\"api\"}|7||b=true, i=-3, f=2.5, y=aGk=, a=[\"x\",null], m_k=v, nil=, observed_timestamp=8, severity_text=WARN, " +
            "dropped_attributes_count=1, flags=257, event_name=e",
            Decode(Encoding.UTF8.GetBytes(json), "application/json"));
    }

    [Theory]
    [InlineData("text/plain", "content type: text/plain is not supported")]
    [InlineData("application/json; charset=utf-8", "content type: application/json; charset=utf-8 is not supported")]
    [InlineData(null, "content type:  is not supported")]
    public void Other_content_types_are_400(string? contentType, string message)
    {
        var error = Assert.Throws<PushRequestException>(() => Decode(Sample().ToByteArray(), contentType));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("snappy")]
    [InlineData("deflate")]
    [InlineData("lz4")]
    public void Other_encodings_are_400_with_Lokis_text(string encoding)
    {
        var error = Assert.Throws<PushRequestException>(() => Decode(Sample().ToByteArray(), "application/x-protobuf", encoding));
        Assert.Equal(400, error.StatusCode);
        Assert.Equal($"unsupported content encoding {encoding}: only gzip, lz4 and zstd are supported", error.Message);
    }

    [Fact]
    public void Malformed_bodies_are_400()
    {
        Assert.Equal("gzip: invalid header",
            Assert.Throws<PushRequestException>(() => Decode("not gzip"u8.ToArray(), "application/x-protobuf", "gzip")).Message);
        Assert.Equal(400, Assert.Throws<PushRequestException>(() => Decode([0x0a, 0xff, 0xff], "application/x-protobuf")).StatusCode);
        Assert.Equal(400, Assert.Throws<PushRequestException>(() => Decode("{\"resourceLogs\":"u8.ToArray(), "application/json")).StatusCode);
        Assert.Equal(400, Assert.Throws<PushRequestException>(() => Decode("{\"resourceLogs\":{}}"u8.ToArray(), "application/json")).StatusCode);

        var badId = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"spanId\":\"abcd\"}]}]}]}"u8.ToArray();
        var error = Assert.Throws<PushRequestException>(() => Decode(badId, "application/json"));
        Assert.Equal("json: invalid spanId: length mismatch, want 8 bytes, got 2", error.Message);
    }

    [Fact]
    public void A_body_that_inflates_past_the_limit_is_413()
    {
        var big = Gzip(new byte[100_000]);
        var error = Assert.Throws<PushRequestException>(() =>
            OtlpLogsDecoder.Decode(big, "application/x-protobuf", "gzip", Mapping, 5, maxDecompressedSize: 10_000));
        Assert.Equal(413, error.StatusCode);
        Assert.StartsWith("request body too large: decompressed message size too large than max (", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(" vs 10000)", error.Message, StringComparison.Ordinal);
    }

    // A log body of maps nested `levels` deep.
    private static AnyValue NestedBody(int levels)
    {
        var value = new AnyValue { StringValue = "leaf" };
        for (var i = 0; i < levels; i++)
        {
            value = new AnyValue { KvlistValue = new KeyValueList { Values = { new KeyValue { Key = "k", Value = value } } } };
        }

        return value;
    }

    [Fact]
    public void Protobuf_nesting_is_bounded_by_Google_Protobufs_recursion_limit()
    {
        // Resource, scope, record and body are four levels under the request; each map adds three (list, pair, value).
        var shallow = Request([], null, new LogRecord { Body = NestedBody(32), TimeUnixNano = 1 });
        var deep = Request([], null, new LogRecord { Body = NestedBody(33), TimeUnixNano = 1 });

        Assert.Contains("{\"k\":{\"k\":", Decode(shallow.ToByteArray(), "application/x-protobuf"), StringComparison.Ordinal);
        var error = Assert.Throws<PushRequestException>(() => Decode(deep.ToByteArray(), "application/x-protobuf"));
        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("proto: Protocol message had too many levels of nesting.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_nesting_past_128_levels_is_a_400()
    {
        var json = new StringBuilder("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":");
        json.Insert(json.Length, "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":", 50_000).Append("{}");
        json.Insert(json.Length, "}]}}", 50_000).Append("}]}]}]}");

        var error = Assert.Throws<PushRequestException>(() => Decode(Encoding.UTF8.GetBytes(json.ToString()), "application/json"));

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("json: The maximum configured depth of 128 has been exceeded.", error.Message, StringComparison.Ordinal);
    }
}

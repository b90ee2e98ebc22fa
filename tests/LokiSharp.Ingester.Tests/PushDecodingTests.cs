using System.IO.Compression;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using LokiSharp.Ingester.Push;
using LokiSharp.Tests.Logproto;

namespace LokiSharp.Ingester.Tests;

public sealed class PushDecodingTests
{
    private static byte[] Protobuf(PushRequest request) => Snappier.Snappy.CompressToArray(request.ToByteArray());

    private static List<(string Labels, long Ts, string Line, string Metadata)> Flatten(PushBatch batch)
    {
        var rows = new List<(string, long, string, string)>();
        foreach (var stream in batch.Streams)
        {
            foreach (var entry in batch.EntriesOf(stream))
            {
                var metadata = string.Join(",", batch.Metadata(entry).ToArray().Select(p => p.Name + "=" + p.Value));
                rows.Add((stream.Labels, entry.TimestampNs, Encoding.UTF8.GetString(batch.Line(entry)), metadata));
            }
        }

        return rows;
    }

    [Fact]
    public void Label_texts_seen_before_decode_again_and_others_are_not_mistaken_for_them()
    {
        string[] texts = ["{app=\"web\", env=\"prod\"}", "{app=\"web\", env=\"test\"}", "{app=\"café\", env=\"prod\"}", "{app=\"web\", env=\"prod\"}"];
        var decoded = new List<string>();
        for (var round = 0; round < 2; round++)
        {
            var request = new PushRequest();
            foreach (var text in texts)
            {
                var stream = new StreamAdapter { Labels = text };
                stream.Entries.Add(new EntryAdapter { Timestamp = new Timestamp { Seconds = 1_700_000_000 }, Line = "x" });
                request.Streams.Add(stream);
            }

            using var batch = PushBodyDecoder.Decode(Protobuf(request), "application/x-protobuf", null, PushEndpoint.V1);
            decoded.AddRange(batch.Streams.Select(s => s.Labels));
        }

        Assert.Equal([.. texts, .. texts], decoded);
    }

    [Fact]
    public void Protobuf_from_a_real_encoder_decodes_every_field()
    {
        var request = new PushRequest();
        var stream = new StreamAdapter { Labels = "{app=\"web\", env=\"prod\"}", Hash = 42 };
        stream.Entries.Add(new EntryAdapter { Timestamp = new Timestamp { Seconds = 1_700_000_000, Nanos = 123_456_789 }, Line = "GET /cart 200" });
        var withMetadata = new EntryAdapter { Timestamp = new Timestamp { Seconds = 1_700_000_001 }, Line = "ünïcode ✓" };
        withMetadata.StructuredMetadata.Add(new LabelPairAdapter { Name = "trace_id", Value = "abc" });
        withMetadata.StructuredMetadata.Add(new LabelPairAdapter { Name = "user", Value = "u1" });
        withMetadata.Parsed.Add(new LabelPairAdapter { Name = "ignored", Value = "x" });
        stream.Entries.Add(withMetadata);
        request.Streams.Add(stream);
        request.Streams.Add(new StreamAdapter { Labels = "{app=\"empty\"}" });

        using var batch = PushBodyDecoder.Decode(Protobuf(request), "application/x-protobuf", null, PushEndpoint.V1);

        Assert.Equal(
            [
                ("{app=\"web\", env=\"prod\"}", 1_700_000_000_123_456_789L, "GET /cart 200", ""),
                ("{app=\"web\", env=\"prod\"}", 1_700_000_001_000_000_000L, "ünïcode ✓", "trace_id=abc,user=u1"),
            ],
            Flatten(batch));
        Assert.Equal(2, batch.Streams.Count);
    }

    [Fact]
    public void A_batch_over_a_decoded_message_references_its_lines_and_copies_others_even_after_growing()
    {
        var message = Encoding.UTF8.GetBytes("first line|second line");
        var batch = PushBatch.ForMessage(message.Length);
        try
        {
            message.CopyTo(batch.Message);
            batch.BeginStream("{app=\"web\"}");
            batch.AddEntry(1, batch.Message[..10]);
            batch.AddEntry(2, batch.Message[11..]);

            // Lines from elsewhere are copied; enough of them outgrow the arena, and earlier lines stay intact.
            var outside = new string('x', 100_000);
            batch.AddEntry(3, Encoding.UTF8.GetBytes(outside));
            batch.AddEntry(4, outside + "y");

            Assert.Equal(
                [("{app=\"web\"}", 1L, "first line", ""), ("{app=\"web\"}", 2L, "second line", ""), ("{app=\"web\"}", 3L, outside, ""),
                    ("{app=\"web\"}", 4L, outside + "y", "")],
                Flatten(batch));
            Assert.Equal(0, batch.Entries[0].LineStart);
            Assert.Equal(11, batch.Entries[1].LineStart);
        }
        finally
        {
            batch.Dispose();
        }
    }

    [Fact]
    public void Json_v1_with_metadata_and_escapes()
    {
        const string json = """
            {"streams":[{"values":[["1700000000000000001","say \"hi\"\n\u00e9"],["1700000000000000002","two",{"k":"v"}]],"stream":{"job":"app","env":"dev"}}]}
            """;

        using var batch = PushBodyDecoder.Decode(Encoding.UTF8.GetBytes(json), "application/json; charset=utf-8", "", PushEndpoint.V1);

        Assert.Equal(
            [
                ("{env=\"dev\", job=\"app\"}", 1_700_000_000_000_000_001L, "say \"hi\"\né", ""),
                ("{env=\"dev\", job=\"app\"}", 1_700_000_000_000_000_002L, "two", "k=v"),
            ],
            Flatten(batch));
    }

    [Fact]
    public void Legacy_json_takes_labels_text_and_rfc3339_times()
    {
        const string json = """{"streams":[{"labels":"{job=\"app\"}","entries":[{"ts":"2023-11-14T22:13:20.123456789Z","line":"x","structuredMetadata":{"a":"b"}}]}]}""";

        using var batch = PushBodyDecoder.Decode(Encoding.UTF8.GetBytes(json), "application/json", null, PushEndpoint.Legacy);

        Assert.Equal([("{job=\"app\"}", 1_700_000_000_123_456_789L, "x", "a=b")], Flatten(batch));
    }

    [Fact]
    public void Gzip_and_deflate_bodies_are_inflated_first()
    {
        var json = Encoding.UTF8.GetBytes("""{"streams":[{"stream":{"a":"b"},"values":[["1","zipped"]]}]}""");
        using var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json);
        }

        using var deflated = new MemoryStream();
        using (var zlib = new ZLibStream(deflated, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(json);
        }

        using var fromGzip = PushBodyDecoder.Decode(gzipped.ToArray(), "application/json", "gzip", PushEndpoint.V1);
        using var fromDeflate = PushBodyDecoder.Decode(deflated.ToArray(), "application/json", "deflate", PushEndpoint.V1);

        Assert.Equal("zipped", Flatten(fromGzip)[0].Line);
        Assert.Equal("zipped", Flatten(fromDeflate)[0].Line);
    }

    [Theory]
    [InlineData("""{"streams":[{"stream":{"a":"b"},"values":[[1700000000,"x"]]}]}""", "application/json", null, 400, "Value is string, but can't find closing '\"' symbol")]
    [InlineData("""{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"k":1}]]}]}""", "application/json", null, 400, "structured metadata value of \"k\" must be a string")]
    [InlineData("""{"streams":[{"stream":{"a":"b"},"values":[["1","x","y","z"]]}]}""", "application/json", null, 400, "array must contains 2 or 3 values")]
    [InlineData("""{"streams":[""", "application/json", null, 400, "")]
    [InlineData("""{}""", "", null, 400, "mime: no media type")]
    [InlineData("""{}""", "application/json", "br", 400, "Content-Encoding \"br\" not supported")]
    [InlineData("not snappy at all", "application/x-protobuf", null, 400, "snappy: corrupt input")]
    public void Bad_bodies_get_Lokis_status_and_text(string body, string contentType, string? encoding, int status, string text)
    {
        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(Encoding.UTF8.GetBytes(body), contentType, encoding, PushEndpoint.V1));

        Assert.Equal(status, error.StatusCode);
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }

    // Snappy blocks that lie: a literal longer than the declared length, a copy reaching before the first byte, a literal
    // cut short by the end of the body, a copy whose offset is zero, a declared length the elements do not fill.
    [Theory]
    [InlineData("05" + "24" + "61616161616161616161")]
    [InlineData("0a" + "08" + "616263" + "0164")]
    [InlineData("0a" + "24" + "61626364")]
    [InlineData("0a" + "08" + "616263" + "0100")]
    [InlineData("0a" + "08" + "616263")]
    public void A_snappy_block_that_lies_about_its_content_is_refused_as_corrupt(string hex)
    {
        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(Convert.FromHexString(hex), "application/x-protobuf", null, PushEndpoint.V1));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("snappy: corrupt input", error.Message);
    }

    [Fact]
    public void Varints_of_every_length_decode_to_their_values()
    {
        // Seconds from one byte to ten (negative), nanoseconds from one to five, line lengths from one byte to three:
        // each at the start, the middle and the end of the message, where fewer than eight bytes are left.
        long[] seconds = [0, 1, 127, 128, 16_383, 16_384, (1L << 21) - 1, 1L << 21, 1L << 28, 1L << 35, 1L << 42, 1L << 49,
            1_700_000_000, 9_000_000_000, -1, -5_000_000_000];
        int[] nanos = [0, 1, 127, 128, 16_384, 999_999_999];
        int[] lengths = [1, 127, 128, 16_383, 16_384, 70_000];
        var request = new PushRequest();
        var stream = new StreamAdapter { Labels = "{a=\"b\"}" };
        var expected = new List<(long, int)>();
        for (var i = 0; i < seconds.Length * nanos.Length; i++)
        {
            var (s, n, length) = (seconds[i % seconds.Length], nanos[i % nanos.Length], lengths[i % lengths.Length]);
            stream.Entries.Add(new EntryAdapter { Timestamp = new Timestamp { Seconds = s, Nanos = n }, Line = new string('x', length) });
            expected.Add((s > 9_223_372_034 ? long.MaxValue : (s * 1_000_000_000) + n, length)); // past int64 ns: pinned (test above)
        }

        request.Streams.Add(stream);
        using var batch = PushBodyDecoder.Decode(Protobuf(request), "application/x-protobuf", null, PushEndpoint.V1);

        Assert.Equal(expected, batch.Entries.ToArray().Select(e => (e.TimestampNs, e.LineLength)));
    }

    [Fact]
    public void A_timestamp_varint_cut_at_the_timestamps_end_is_a_400_though_the_entry_goes_on()
    {
        // Nanoseconds 0x80 0x80 ends the 3-byte timestamp with its continuation bit set; the line field after it would end
        // the varint if the reader took bytes past the timestamp.
        byte[] entry = [0x0A, 0x03, 0x10, 0x80, 0x80, 0x12, 0x05, .. "hello"u8];
        byte[] labels = [.. "{a=\"b\"}"u8];
        byte[] stream = [0x0A, (byte)labels.Length, .. labels, 0x12, (byte)entry.Length, .. entry];
        byte[] message = [0x0A, (byte)stream.Length, .. stream];

        var error = Assert.Throws<PushRequestException>(() =>
            PushBodyDecoder.Decode(Snappier.Snappy.CompressToArray(message), "application/x-protobuf", null, PushEndpoint.V1));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("proto: unexpected end of message", error.Message);
    }

    [Theory]
    [InlineData(10_000_000_000L, long.MaxValue)]
    [InlineData(-10_000_000_000L, long.MinValue)]
    [InlineData(long.MaxValue, long.MaxValue)]
    [InlineData(9_223_372_034L, 9_223_372_034_000_000_000L)]
    public void A_protobuf_time_beyond_int64_nanoseconds_is_pinned_to_the_end_of_the_range(long seconds, long expected)
    {
        var request = new PushRequest();
        request.Streams.Add(new StreamAdapter
        {
            Labels = "{a=\"b\"}",
            Entries = { new EntryAdapter { Timestamp = new Timestamp { Seconds = seconds }, Line = "far" } },
        });

        using var batch = PushBodyDecoder.Decode(Protobuf(request), "application/x-protobuf", null, PushEndpoint.V1);

        Assert.Equal(expected, batch.Entries[0].TimestampNs);
    }

    // Labels are read with the entries after them in one pass when they come first and once; in any other order of a
    // stream's fields (entries first, labels repeated: the last counts) the batch holds what a protobuf parser reads.
    [Fact]
    public void Stream_fields_in_any_order_decode_as_a_protobuf_parser_reads_them()
    {
        static EntryAdapter Entry(long seconds, string line, params (string Name, string Value)[] metadata)
        {
            var entry = new EntryAdapter { Timestamp = new Timestamp { Seconds = seconds }, Line = line };
            entry.StructuredMetadata.Add(metadata.Select(m => new LabelPairAdapter { Name = m.Name, Value = m.Value }));
            return entry;
        }

        static byte[] Part(string? labels, params EntryAdapter[] entries)
        {
            var part = new StreamAdapter { Entries = { entries } };
            if (labels is not null)
            {
                part.Labels = labels;
            }

            return part.ToByteArray();
        }

        byte[][] streams =
        [
            Part("{a=\"first\"}", Entry(1, "one", ("k", "v")), Entry(2, "two")),
            [.. Part(null, Entry(3, "before labels", ("m", "n"))), .. Part("{a=\"after\"}", Entry(4, "after labels"))],
            [.. Part("{a=\"old\"}", Entry(5, "x", ("p", "q")), Entry(6, "y")), .. Part("{a=\"new\"}", Entry(7, "z", ("r", "s")))],
            Part("{a=\"last\"}", Entry(8, "end", ("t", "u"))),
        ];
        var message = new MemoryStream();
        var output = new CodedOutputStream(message);
        foreach (var stream in streams)
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(stream));
        }

        output.Flush();
        var bytes = message.ToArray();
        var parsed = PushRequest.Parser.ParseFrom(bytes);
        var expected = parsed.Streams.SelectMany(stream => stream.Entries.Select(entry => (stream.Labels,
            (entry.Timestamp.Seconds * 1_000_000_000) + entry.Timestamp.Nanos, entry.Line,
            string.Join(",", entry.StructuredMetadata.Select(p => p.Name + "=" + p.Value))))).ToList();

        using var batch = PushBodyDecoder.Decode(Snappier.Snappy.CompressToArray(bytes), "application/x-protobuf", null, PushEndpoint.V1);

        Assert.Equal(["{a=\"first\"}", "{a=\"after\"}", "{a=\"new\"}", "{a=\"last\"}"], batch.Streams.Select(s => s.Labels));
        Assert.Equal(expected, Flatten(batch));
        Assert.Equal(expected.Sum(e => Encoding.UTF8.GetByteCount(e.Line)), batch.LineBytes);
    }

    [Fact]
    public void Truncated_protobuf_is_a_400_not_a_crash()
    {
        var request = new PushRequest();
        request.Streams.Add(new StreamAdapter { Labels = "{a=\"b\"}", Entries = { new EntryAdapter { Line = "some line" } } });
        var bytes = request.ToByteArray();

        var error = Assert.Throws<PushRequestException>(() =>
            PushBodyDecoder.Decode(Snappier.Snappy.CompressToArray(bytes.AsSpan(0, bytes.Length - 3)), "application/x-protobuf", null, PushEndpoint.V1));

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("proto: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_json_body_nested_a_hundred_thousand_deep_is_a_400_naming_the_depth()
    {
        // The member nobody reads is skipped, but the reader still counts its depth.
        var body = "{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1\",\"x\"]]}],\"extra\":" +
                   new string('[', 100_000) + new string(']', 100_000) + "}";

        var error = Assert.Throws<PushRequestException>(() => PushBodyDecoder.Decode(Encoding.UTF8.GetBytes(body), "application/json", null, PushEndpoint.V1));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("depth", error.Message, StringComparison.Ordinal);
    }
}

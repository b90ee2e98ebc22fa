using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using LokiSharp.Ingester.Otlp;
using LokiSharp.Ingester.Otlp.Protos;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Tests.Logproto;

namespace LokiSharp.Ingester.Tests;

/// <summary>
/// Fuzz-style tests of everything a push body passes through before validation: random bytes and mutations of
/// valid samples (bit flips, truncation, corrupted length fields, huge varints, repeated fields, stray JSON
/// tokens, invalid UTF-8). Each input must either decode, to an output bounded by its size, or be refused with
/// the decoder's own client error; any other exception is what a user would see as a 500. Seeds are fixed, so a
/// failure reproduces, and the failing input is printed in base64.
/// </summary>
public sealed class PushFuzzTests
{
    private const int Runs = 1500;

    private static readonly byte[][] JsonTokens =
    [
        "\""u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), ":"u8.ToArray(),
        "\\"u8.ToArray(), "\\u"u8.ToArray(), "\\ud800"u8.ToArray(), "\\udc00"u8.ToArray(), "null"u8.ToArray(), "true"u8.ToArray(),
        "-"u8.ToArray(), "1e999999"u8.ToArray(), "99999999999999999999999999"u8.ToArray(), "-9223372036854775809"u8.ToArray(),
        "0.5"u8.ToArray(), "\"\""u8.ToArray(), "{}"u8.ToArray(), "[]"u8.ToArray(), [0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98],
        [0xed, 0xa0, 0x80], [0x00], "\"streams\""u8.ToArray(), "\"values\""u8.ToArray(), "\"stream\""u8.ToArray(),
        "\"resourceLogs\""u8.ToArray(), "\"logRecords\""u8.ToArray(), "\"kvlistValue\""u8.ToArray(), "\"timeUnixNano\""u8.ToArray(),
        "\"traceId\""u8.ToArray(), Encoding.UTF8.GetBytes(new string('[', 40)), Encoding.UTF8.GetBytes(new string('{', 20)),
    ];

    private static readonly byte[][] HugeVarints =
    [
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        [0xff, 0xff, 0xff, 0xff, 0x0f],
        [0x80, 0x80, 0x80, 0x80, 0x08],
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        [0xff, 0xff, 0xff, 0xff, 0x07],
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
    ];

    // ---- samples ----

    private static byte[] PushSample()
    {
        var request = new PushRequest();
        var web = new StreamAdapter { Labels = "{app=\"web\", env=\"prod\"}", Hash = 42 };
        web.Entries.Add(new EntryAdapter { Timestamp = new Timestamp { Seconds = 1_700_000_000, Nanos = 5 }, Line = "GET /cart 200" });
        var withMetadata = new EntryAdapter { Timestamp = new Timestamp { Seconds = 1_700_000_001 }, Line = "ünïcode ✓" };
        withMetadata.StructuredMetadata.Add(new LabelPairAdapter { Name = "trace_id", Value = "abc" });
        withMetadata.Parsed.Add(new LabelPairAdapter { Name = "p", Value = "q" });
        web.Entries.Add(withMetadata);
        request.Streams.Add(web);
        request.Streams.Add(new StreamAdapter
        {
            Labels = "{job=\"db\"}",
            Entries = { new EntryAdapter { Timestamp = new Timestamp { Seconds = 1_700_000_002 }, Line = "checkpoint" } },
        });
        return request.ToByteArray();
    }

    private const string JsonSample = """
        {"streams":[{"stream":{"app":"web","env":"prod"},"values":[["1700000000000000001","say \"hi\"\n\u00e9"],
          ["1700000000000000002","two",{"trace_id":"abc","user":"u1"}]]},
          {"stream":{"job":"db"},"values":[["1700000000000000003","checkpoint",null]]}]}
        """;

    private const string LegacySample = """
        {"streams":[{"labels":"{app=\"web\", env=\"prod\"}","entries":[{"ts":"2023-11-14T22:13:20.123456789Z","line":"x \"q\"",
          "structuredMetadata":{"a":"b"}},{"timestamp":"2023-11-14T22:13:21Z","line":"y"}]}]}
        """;

    private static ExportLogsServiceRequest OtlpSample()
    {
        static KeyValue Attr(string key, AnyValue value) => new() { Key = key, Value = value };
        var list = new KeyValueList();
        list.Values.Add(Attr("method", new AnyValue { StringValue = "POST" }));
        list.Values.Add(Attr("nested", new AnyValue { KvlistValue = new KeyValueList { Values = { Attr("deep", new AnyValue { BoolValue = true }) } } }));
        var array = new ArrayValue();
        array.Values.Add(new AnyValue { IntValue = -7 });
        array.Values.Add(new AnyValue { DoubleValue = 2.5 });
        var record = new LogRecord
        {
            TimeUnixNano = 1_700_000_000_000_000_001,
            ObservedTimeUnixNano = 1_700_000_000_000_000_002,
            SeverityNumber = SeverityNumber.Warn,
            SeverityText = "WARN",
            Body = new AnyValue { StringValue = "card declined" },
            TraceId = ByteString.CopyFrom(Convert.FromHexString("5b8efff798038103d269b633813fc60c")),
            SpanId = ByteString.CopyFrom(Convert.FromHexString("eee19b7ec3c1b174")),
            Flags = 1,
        };
        record.Attributes.Add(Attr("http", new AnyValue { KvlistValue = list }));
        record.Attributes.Add(Attr("list", new AnyValue { ArrayValue = array }));
        record.Attributes.Add(Attr("raw", new AnyValue { BytesValue = ByteString.CopyFrom([1, 2, 3]) }));
        var mapBody = new LogRecord { TimeUnixNano = 1_700_000_000_000_000_003, Body = new AnyValue { KvlistValue = list } };
        var resource = new Resource();
        resource.Attributes.Add(Attr("service.name", new AnyValue { StringValue = "checkout" }));
        resource.Attributes.Add(Attr("k8s.namespace.name", new AnyValue { StringValue = "shop" }));
        resource.Attributes.Add(Attr("process.pid", new AnyValue { IntValue = 4242 }));
        var scopeLogs = new ScopeLogs { Scope = new InstrumentationScope { Name = "lib", Version = "1.0" } };
        scopeLogs.LogRecords.Add(record);
        scopeLogs.LogRecords.Add(mapBody);
        var resourceLogs = new ResourceLogs { Resource = resource };
        resourceLogs.ScopeLogs.Add(scopeLogs);
        var request = new ExportLogsServiceRequest();
        request.ResourceLogs.Add(resourceLogs);
        return request;
    }

    private const string OtlpJsonSample = """
        {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}},
            {"key":"process.pid","value":{"intValue":"4242"}}]},
          "scopeLogs":[{"scope":{"name":"cart-logger","attributes":[{"key":"lib.lang","value":{"stringValue":"go"}}]},
            "logRecords":[{"timeUnixNano":"1700000000000000004","observedTimeUnixNano":1700000000000000005,"severityNumber":9,
              "severityText":"INFO","body":{"stringValue":"added item"},
              "attributes":[{"key":"http","value":{"kvlistValue":{"values":[{"key":"method","value":{"stringValue":"POST"}}]}}},
                {"key":"sizes","value":{"arrayValue":{"values":[{"intValue":3},{"doubleValue":1.5},{"boolValue":true}]}}},
                {"key":"blob","value":{"bytesValue":"AQID"}}],
              "traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","flags":1}]}]}]}
        """;

    private static readonly string[] LabelSamples =
    [
        "{app=\"web\", env=\"prod\"}", "{}", "{a=\"b\"}", "{job=\"x\\\"y\\\\z\", __name__=\"q\", service_name=\"é✓\"}",
        "{app=\"web\",env=\"prod\",}", "{a_b=\"\\u00e9\\x41\\101\\n\"}",
    ];

    // ---- mutation ----

    private static byte[] RandomBytes(Random random, int max)
    {
        var bytes = new byte[random.Next(max)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] sample, IReadOnlyList<int> lengthFields, bool json)
    {
        var data = new List<byte>(sample);
        var count = random.Next(1, 5);
        for (var m = 0; m < count; m++)
        {
            var at = data.Count == 0 ? 0 : random.Next(data.Count);
            switch (random.Next(json ? 7 : 8))
            {
                case 0 when data.Count > 0:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 2 when data.Count > 0:
                    data[at] = (byte)random.Next(256);
                    break;
                case 3:
                    // Repeated field or value: a run of the body inserted again after itself.
                    var length = Math.Min(random.Next(1, 64), data.Count - at);
                    data.InsertRange(at + length, data.GetRange(at, length));
                    break;
                case 4:
                    data.RemoveRange(at, Math.Min(random.Next(1, 16), data.Count - at));
                    break;
                case 5:
                    data.InsertRange(at, json ? JsonTokens[random.Next(JsonTokens.Length)] : HugeVarints[random.Next(HugeVarints.Length)]);
                    break;
                case 6 when json:
                    data.InsertRange(at, RandomBytes(random, 8));
                    break;
                case 6 or 7 when !json && lengthFields.Count > 0 && m == 0:
                    // A length prefix of the untouched sample rewritten: too long, too short or absurd.
                    var field = lengthFields[random.Next(lengthFields.Count)];
                    var varintLength = VarintLength(sample, field);
                    var value = random.Next(4) switch
                    {
                        0 => (ulong)random.Next(0, 8),
                        1 => (ulong)random.Next(0, sample.Length * 2),
                        2 => uint.MaxValue,
                        _ => ulong.MaxValue,
                    };
                    data.RemoveRange(field, varintLength);
                    data.InsertRange(field, Varint(value));
                    break;
                default:
                    data.Insert(at, (byte)random.Next(256));
                    break;
            }
        }

        return [.. data];
    }

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static int VarintLength(byte[] data, int at)
    {
        var i = at;
        while (i < data.Length && data[i] >= 0x80)
        {
            i++;
        }

        return i - at + 1;
    }

    // Offsets of every length prefix in a protobuf message, nested messages included (a bytes field that does not
    // parse as a message is not entered).
    private static List<int> LengthFields(byte[] message)
    {
        var found = new List<int>();
        Walk(message, 0, message.Length, found);
        return found;
    }

    private static bool Walk(byte[] data, int start, int end, List<int> found)
    {
        var mark = found.Count;
        var i = start;
        while (i < end)
        {
            if (!TryVarint(data, ref i, end, out var tag) || tag >> 3 == 0)
            {
                found.RemoveRange(mark, found.Count - mark);
                return false;
            }

            switch ((int)(tag & 7))
            {
                case 0:
                    if (!TryVarint(data, ref i, end, out _))
                    {
                        found.RemoveRange(mark, found.Count - mark);
                        return false;
                    }

                    break;
                case 1:
                    i += 8;
                    break;
                case 5:
                    i += 4;
                    break;
                case 2:
                    var prefix = i;
                    if (!TryVarint(data, ref i, end, out var length) || length > (ulong)(end - i))
                    {
                        found.RemoveRange(mark, found.Count - mark);
                        return false;
                    }

                    found.Add(prefix);
                    Walk(data, i, i + (int)length, found);
                    i += (int)length;
                    break;
                default:
                    found.RemoveRange(mark, found.Count - mark);
                    return false;
            }
        }

        if (i != end)
        {
            found.RemoveRange(mark, found.Count - mark);
            return false;
        }

        return true;
    }

    private static bool TryVarint(byte[] data, ref int i, int end, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && i < end; shift += 7)
        {
            var b = data[i++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    // ---- checking ----

    private sealed class Findings
    {
        private readonly Dictionary<string, string> _first = [];

        public int Decoded { get; private set; }

        public int Refused { get; private set; }

        public void Run(string what, byte[] input, Func<byte[], long> decode, long outputBound, Func<Exception, bool> isClientError)
        {
            try
            {
                var output = decode(input);
                Decoded++;
                if (output > outputBound)
                {
                    Note($"{what}: output of {output} for {input.Length} input bytes", input);
                }
            }
            catch (Exception e) when (isClientError(e))
            {
                Refused++;
            }
            catch (Exception e)
            {
                Note($"{what}: {e.GetType().Name}: {e.Message}", input);
            }
        }

        private void Note(string failure, byte[] input)
        {
            var key = failure.Length > 120 ? failure[..120] : failure;
            _first.TryAdd(key, Convert.ToBase64String(input));
        }

        public void AssertClean()
        {
            Assert.True(_first.Count == 0, string.Join("\n", _first.Select(p => p.Key + "\n    input: " + p.Value)));

            // Both outcomes are exercised, or the mutations say nothing.
            Assert.True(Decoded > 0 && Refused > 0, $"{Decoded} decoded, {Refused} refused");
        }
    }

    private static bool IsPushClientError(Exception e) => e is PushRequestException { StatusCode: >= 400 and < 500 };

    // Bytes a batch holds: lines, metadata and label texts. Entries without lines count a byte each.
    private static long Size(PushBatch batch)
    {
        long size = 0;
        foreach (var stream in batch.Streams)
        {
            size += stream.Labels.Length;
            foreach (var entry in batch.EntriesOf(stream))
            {
                size += Math.Max(entry.LineLength, 1);
                foreach (var pair in batch.Metadata(entry))
                {
                    size += pair.Name.Length + pair.Value.Length;
                }
            }
        }

        return size;
    }

    private static long DecodePushBody(byte[] body, string contentType, string? encoding, PushEndpoint endpoint)
    {
        using var batch = PushBodyDecoder.Decode(body, contentType, encoding, endpoint, maxDecompressedSize: 1 << 20);
        return Size(batch);
    }

    [Fact]
    public void Protobuf_push_messages_decode_or_are_refused_with_a_400()
    {
        var random = new Random(1601);
        var sample = PushSample();
        var lengths = LengthFields(sample);
        Assert.True(lengths.Count >= 10);
        var findings = new Findings();
        for (var run = 0; run < Runs; run++)
        {
            var input = run % 10 == 0 ? RandomBytes(random, 200) : Mutate(random, sample, lengths, json: false);
            findings.Run("protobuf", input, static message =>
            {
                using var batch = new PushBatch(message.Length);
                ProtobufPushDecoder.Decode(message, batch);
                return Size(batch);
            }, 2L * input.Length + 64, IsPushClientError);

            // The same message snappy-compressed, and the compressed bytes themselves damaged.
            var snappy = Snappier.Snappy.CompressToArray(input);
            findings.Run("snappy protobuf", snappy, static body => DecodePushBody(body, "application/x-protobuf", null, PushEndpoint.V1),
                2L * input.Length + 64, IsPushClientError);
            var damaged = Mutate(random, snappy, [0], json: false);
            findings.Run("damaged snappy", damaged, static body => DecodePushBody(body, "application/x-protobuf", "snappy", PushEndpoint.V1),
                3L << 20, IsPushClientError);
        }

        findings.AssertClean();
    }

    [Fact]
    public void JSON_push_bodies_decode_or_are_refused_with_a_400()
    {
        var random = new Random(1602);
        var v1 = Encoding.UTF8.GetBytes(JsonSample);
        var legacy = Encoding.UTF8.GetBytes(LegacySample);
        var findings = new Findings();
        for (var run = 0; run < Runs; run++)
        {
            var (sample, endpoint) = run % 2 == 0 ? (v1, PushEndpoint.V1) : (legacy, PushEndpoint.Legacy);
            var input = run % 10 == 0 ? RandomBytes(random, 200) : Mutate(random, sample, [], json: true);
            findings.Run(endpoint.ToString(), input, body => DecodePushBody(body, "application/json", null, endpoint),
                4L * input.Length + 64, IsPushClientError);
        }

        findings.AssertClean();
    }

    private static long DecodeOtlp(byte[] body, string contentType)
    {
        using var batch = OtlpLogsDecoder.Decode(body, contentType, null, new OtlpMapping { DiscoverServiceName = ["service", "app"] },
            1_700_000_000_000_000_000, maxDecompressedSize: 1 << 20);
        return Size(batch);
    }

    [Fact]
    public void OTLP_protobuf_exports_decode_or_are_refused_with_a_400()
    {
        var random = new Random(1603);
        var sample = OtlpSample().ToByteArray();
        var lengths = LengthFields(sample);
        Assert.True(lengths.Count >= 20);
        var findings = new Findings();
        for (var run = 0; run < Runs; run++)
        {
            var input = run % 10 == 0 ? RandomBytes(random, 200) : Mutate(random, sample, lengths, json: false);
            findings.Run("otlp protobuf", input, static body => DecodeOtlp(body, OtlpLogsDecoder.ProtobufContentType),
                64L * input.Length + 65536, IsPushClientError);
        }

        findings.AssertClean();
    }

    [Fact]
    public void OTLP_JSON_exports_decode_or_are_refused_with_a_400()
    {
        var random = new Random(1604);
        var sample = Encoding.UTF8.GetBytes(OtlpJsonSample);
        var findings = new Findings();
        for (var run = 0; run < Runs; run++)
        {
            var input = run % 10 == 0 ? RandomBytes(random, 200) : Mutate(random, sample, [], json: true);
            findings.Run("otlp json", input, static body => DecodeOtlp(body, OtlpLogsDecoder.JsonContentType),
                64L * input.Length + 65536, IsPushClientError);
        }

        findings.AssertClean();
    }

    [Fact]
    public void Pushed_label_sets_parse_or_are_refused_with_a_parse_error()
    {
        var random = new Random(1605);
        var findings = new Findings();
        var alphabet = "{}=!~\",\\ _aZ09.-é\n\t\0{}\"\"==".ToCharArray();
        for (var run = 0; run < Runs * 2; run++)
        {
            var sample = LabelSamples[run % LabelSamples.Length];
            string text;
            if (run % 10 == 0)
            {
                text = new string([.. Enumerable.Range(0, random.Next(40)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            }
            else
            {
                var chars = new List<char>(sample);
                for (var m = random.Next(1, 4); m > 0; m--)
                {
                    var at = chars.Count == 0 ? 0 : random.Next(chars.Count);
                    switch (random.Next(5))
                    {
                        case 0 when chars.Count > 0:
                            chars.RemoveAt(at);
                            break;
                        case 1:
                            chars.RemoveRange(at, chars.Count - at);
                            break;
                        case 2:
                            var length = Math.Min(random.Next(1, 12), chars.Count - at);
                            chars.InsertRange(at + length, chars.GetRange(at, length));
                            break;
                        case 3:
                            chars.InsertRange(at, random.Next(3) switch { 0 => "\\u", 1 => "\\x", _ => "\uD800" });
                            break;
                        default:
                            chars.Insert(at, alphabet[random.Next(alphabet.Length)]);
                            break;
                    }
                }

                text = new string([.. chars]);
            }

            findings.Run("labels", Encoding.UTF8.GetBytes(text), _ => LabelSetParser.Parse(text).Count, text.Length + 1,
                static e => e is LogQLParseException);
        }

        findings.AssertClean();
    }
}

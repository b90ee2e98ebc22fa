using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LokiSharp.Benchmarks.Storage;
using LokiSharp.Ingester;
using LokiSharp.Ingester.Distribution;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Push;
using LokiSharp.LoadTest;
using Prometheus;

namespace LokiSharp.Benchmarks.Push;

/// <summary>
/// Push decoding and validation of a Promtail-sized batch (~1 MiB of raw lines over 32 streams): protobuf+snappy
/// and JSON bodies to a <see cref="PushBatch"/>, then the distributor's checks. MB/s = 1 MiB / mean time.
/// </summary>
[MemoryDiagnoser]
public class PushDecodingBenchmarks
{
    private const int Streams = 32;

    private byte[] _protobuf = [];
    private byte[] _json = [];
    private PushValidator _validator = null!;

    /// <summary>Raw line bytes in one batch.</summary>
    public int RawBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var lines = SyntheticLogs.Generate(1 << 20);
        RawBytes = lines.Sum(l => l.Line.Length);

        var streams = new List<PushRequestEncoder.Stream>();
        for (var s = 0; s < Streams; s++)
        {
            var entries = new List<(long, byte[])>();
            for (var i = s; i < lines.Count; i += Streams)
            {
                entries.Add((now - ((lines.Count - i) * 1_000_000L), lines[i].Line));
            }

            streams.Add(new PushRequestEncoder.Stream($"{{app=\"app-{s % 8}\", namespace=\"jewelry-shop\", pod=\"pod-{s}\"}}", entries));
        }

        _protobuf = PushRequestEncoder.Encode(streams);

        var json = new ArrayBufferWriter<byte>(2 << 20);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("streams");
            for (var s = 0; s < Streams; s++)
            {
                writer.WriteStartObject();
                writer.WriteStartObject("stream");
                writer.WriteString("app", $"app-{s % 8}");
                writer.WriteString("namespace", "jewelry-shop");
                writer.WriteString("pod", $"pod-{s}");
                writer.WriteEndObject();
                writer.WriteStartArray("values");
                for (var i = s; i < lines.Count; i += Streams)
                {
                    writer.WriteStartArray();
                    writer.WriteStringValue((now - ((lines.Count - i) * 1_000_000L)).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    writer.WriteStringValue(lines[i].Line);
                    writer.WriteEndArray();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        _json = json.WrittenSpan.ToArray();
        _validator = new PushValidator(new IngesterMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System);
    }

    [Benchmark(Baseline = true)]
    public int DecodeProtobufSnappy()
    {
        using var batch = PushBodyDecoder.Decode(_protobuf, "application/x-protobuf", null, PushEndpoint.V1);
        return batch.Entries.Length;
    }

    [Benchmark]
    public int DecodeJson()
    {
        using var batch = PushBodyDecoder.Decode(_json, "application/json", null, PushEndpoint.V1);
        return batch.Entries.Length;
    }

    // As the ingester does, the validated push is handed back once done with, so the next one reuses its lists.
    [Benchmark]
    public long DecodeAndValidateProtobuf()
    {
        using var batch = PushBodyDecoder.Decode(_protobuf, "application/x-protobuf", null, PushEndpoint.V1);
        var validated = _validator.Validate("fake", batch, Limits);
        var lines = validated.Lines;
        _validator.Return(validated);
        return lines;
    }

    private static readonly IngestionLimits Limits = new() { IngestionRateBytes = double.MaxValue, IngestionBurstBytes = double.MaxValue };
}

using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using LokiSharp.Benchmarks.Storage;
using LokiSharp.Ingester.Otlp;
using LokiSharp.Ingester.Otlp.Protos;

namespace LokiSharp.Benchmarks.Push;

/// <summary>
/// OTLP/HTTP logs decoding: an <c>ExportLogsServiceRequest</c> protobuf body as the OpenTelemetry Collector sends
/// it (<see cref="Resources"/> Kubernetes pods, one scope each, <see cref="RecordsPerResource"/> records with a
/// synthetic logfmt body, severity, trace context and two attributes) parsed and mapped to a push batch with Loki's default
/// <c>otlp_config</c> (resource attributes as index labels, record attributes as structured metadata).
/// </summary>
[MemoryDiagnoser]
public class OtlpDecodingBenchmarks
{
    private static readonly OtlpMapping Mapping = new();

    private byte[] _body = [];
    private long _now;

    /// <summary>Resources (streams) per request.</summary>
    [Params(16)]
    public int Resources { get; set; } = 16;

    /// <summary>Log records per resource.</summary>
    [Params(64)]
    public int RecordsPerResource { get; set; } = 64;

    /// <summary>Encoded body bytes.</summary>
    public int BodyBytes => _body.Length;

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var lines = SyntheticLogs.Generate(Resources * RecordsPerResource * 256);
        var request = new ExportLogsServiceRequest();
        for (var r = 0; r < Resources; r++)
        {
            var resource = new Resource();
            resource.Attributes.Add(Attribute("service.name", $"app-{r % 4}"));
            resource.Attributes.Add(Attribute("k8s.namespace.name", "jewelry-shop"));
            resource.Attributes.Add(Attribute("k8s.pod.name", $"pod-{r}"));
            resource.Attributes.Add(Attribute("host.arch", "amd64"));
            var scope = new ScopeLogs { Scope = new InstrumentationScope { Name = "io.opentelemetry.bench", Version = "1.0.0" } };
            for (var i = 0; i < RecordsPerResource; i++)
            {
                var record = new LogRecord
                {
                    TimeUnixNano = (ulong)(_now - ((RecordsPerResource - i) * 1_000_000L)),
                    SeverityNumber = SeverityNumber.Info,
                    SeverityText = "INFO",
                    Body = new AnyValue { StringValue = System.Text.Encoding.UTF8.GetString(lines[(r * RecordsPerResource) + i].Line) },
                    TraceId = ByteString.CopyFrom(Id(16, (r * RecordsPerResource) + i)),
                    SpanId = ByteString.CopyFrom(Id(8, i)),
                };
                record.Attributes.Add(Attribute("http.route", $"/api/v1/items/{i % 8}"));
                record.Attributes.Add(new KeyValue { Key = "http.status_code", Value = new AnyValue { IntValue = i % 10 == 0 ? 500 : 200 } });
                scope.LogRecords.Add(record);
            }

            var logs = new ResourceLogs { Resource = resource };
            logs.ScopeLogs.Add(scope);
            request.ResourceLogs.Add(logs);
        }

        _body = request.ToByteArray();
    }

    [Benchmark]
    public int DecodeProtobuf()
    {
        using var batch = OtlpLogsDecoder.Decode(_body, OtlpLogsDecoder.ProtobufContentType, null, Mapping, _now);
        return batch.Entries.Length;
    }

    private static KeyValue Attribute(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static byte[] Id(int length, int seed)
    {
        var id = new byte[length];
        new Random(seed).NextBytes(id);
        return id;
    }
}

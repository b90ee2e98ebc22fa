using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using LokiSharp.Ingester;
using LokiSharp.Ingester.Distribution;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Push;
using LokiSharp.Ingester.Wal;
using LokiSharp.LoadTest;
using LokiSharp.Storage.Chunks;
using Prometheus;

namespace LokiSharp.Benchmarks.Push;

/// <summary>
/// The per-line stages of a push, each alone, on a batch shaped like perf.py's (the shared tools' jewelry-shop dataset:
/// 160 streams of 12 entries, Django JSON under a <c>level</c> stream label, Celery logfmt, Nginx access lines, PostgreSQL
/// and Redis text): protobuf decode (snappy already undone), validation with level detection, level detection alone,
/// and the WAL record's encoding. MB/s = <see cref="RawBytes"/> / mean time.
/// </summary>
[MemoryDiagnoser]
public class PushStagesBenchmarks
{
    private const int PodsPerApp = 20;
    private const int EntriesPerStream = 12;

    private static readonly IngestionLimits Limits = new() { IngestionRateBytes = double.MaxValue, IngestionBurstBytes = double.MaxValue };

    private byte[] _message = [];
    private PushBatch _batch = null!;
    private PushValidator _validator = null!;
    private ValidatedPush _validated = null!;
    private (string? LabelLevel, byte[] Line)[] _lines = [];
    private readonly PooledBufferWriter _record = new(2 << 20);

    /// <summary>Raw line bytes per operation.</summary>
    public long RawBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(11);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var streams = new List<PushRequestEncoder.Stream>();
        var lines = new List<(string?, byte[])>();
        string[] apps = ["django", "celery-worker", "nginx", "spilo", "redis"];
        foreach (var app in apps)
        {
            for (var pod = 0; pod < PodsPerApp; pod++)
            {
                var labels = $"{{namespace=\"jewelry-shop\", app=\"{app}\", pod=\"{app}-{random.Next(1 << 24):x6}-{pod}\", " +
                    $"container=\"{app}\", job=\"jewelry-shop/{app}\"";
                var byLevel = new Dictionary<string, List<(long, byte[])>>();
                for (var i = 0; i < EntriesPerStream * (app == "django" ? 3 : 1); i++)
                {
                    var (level, line) = Line(app, random, i);
                    var key = app == "django" ? level : "";
                    if (!byLevel.TryGetValue(key, out var entries))
                    {
                        byLevel[key] = entries = [];
                    }

                    var bytes = Encoding.UTF8.GetBytes(line);
                    entries.Add((now - ((EntriesPerStream - i) * 1_000_000_000L) + random.Next(1_000_000_000), bytes));
                    lines.Add((app == "django" ? level : null, bytes));
                    RawBytes += bytes.Length;
                }

                foreach (var (level, entries) in byLevel)
                {
                    streams.Add(new PushRequestEncoder.Stream(labels + (level.Length > 0 ? $", level=\"{level}\"}}" : "}"), entries));
                }
            }
        }

        _lines = [.. lines];
        _message = Snappier.Snappy.DecompressToArray(PushRequestEncoder.Encode(streams));
        _batch = new PushBatch(_message.Length);
        ProtobufPushDecoder.Decode(_message, _batch);
        _validator = new PushValidator(new IngesterMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System);
        _validated = _validator.Validate("fake", _batch, Limits);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batch.Dispose();
        _record.Dispose();
    }

    [Benchmark]
    public int DecodeProtobuf()
    {
        using var batch = new PushBatch(_message.Length);
        ProtobufPushDecoder.Decode(_message, batch);
        return batch.Entries.Length;
    }

    [Benchmark]
    public long Validate()
    {
        var validated = _validator.Validate("fake", _batch, Limits);
        var lines = validated.Lines;
        _validator.Return(validated);
        return lines;
    }

    [Benchmark]
    public int DetectLevels()
    {
        var unknown = 0;
        foreach (var (labelLevel, line) in _lines)
        {
            if (ReferenceEquals(LevelDetector.Detect(labelLevel, [], line), "unknown"))
            {
                unknown++;
            }
        }

        return unknown;
    }

    // As the ingester writes a push's record: the shared metadata table, then each stream's labels and entries.
    [Benchmark]
    public int EncodeWalRecord()
    {
        _record.Clear();
        var table = new byte[PushValidator.SharedCount][];
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = PushValidator.SharedEncodingAt(i);
        }

        WalRecord.BeginEntries(_record, 1, "fake", table, _validated.Streams.Count);
        foreach (var stream in _validated.Streams)
        {
            WalRecord.BeginStream(_record, WalLabels, stream.Entries.Count, out var previous);
            foreach (var entry in stream.Entries)
            {
                var line = _batch.Bytes(entry.LineStart, entry.LineLength);
                if (entry.Shared >= 0)
                {
                    WalRecord.WriteEntry(_record, ref previous, entry.TimestampNs, line, entry.Shared);
                }
                else
                {
                    WalRecord.WriteEntry(_record, ref previous, entry.TimestampNs, line, entry.Metadata);
                }
            }
        }

        return _record.WrittenCount;
    }

    private static readonly byte[] WalLabels = WalRecord.EncodeLabels("{app=\"nginx\", namespace=\"jewelry-shop\", pod=\"nginx-0a1b2c-1\"}");

    private static readonly string[] Paths =
        ["/", "/api/products", "/api/products/42", "/api/cart", "/api/checkout", "/static/app.js", "/admin/login", "/api/orders", "/healthz"];

    private static readonly string[] Messages = ["request finished", "user logged in", "cache miss for product", "order created", "payment declined"];

    // The shared tools' generators (lokiwire.py), close enough in shape: which field holds the level and where words fall.
    private static (string Level, string Line) Line(string app, Random random, int i)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (app)
        {
            case "django":
                var level = (string[])["info", "info", "info", "info", "warning", "error", "debug"];
                var chosen = level[random.Next(level.Length)];
                return (chosen, $"{{\"level\":\"{chosen}\",\"message\":\"{Messages[random.Next(Messages.Length)]}\",\"logger\":\"shop.views\"," +
                    $"\"status\":{(random.Next(8) == 0 ? 500 : 200)},\"duration_ms\":{(random.NextDouble() * 900).ToString("F2", inv)}," +
                    $"\"user\":{{\"id\":{random.Next(1, 500)},\"plan\":\"gold\"}},\"request_id\":\"{random.NextInt64():x16}\"}}");
            case "celery-worker":
                var id = random.Next().ToString("x8", inv);
                return random.Next(16) == 0
                    ? ("error", $"level=error task=shop.tasks.charge_card id={id} msg=\"task failed\" error=\"Timeout after 30s\" retries=2")
                    : ("info", $"level=info task=shop.tasks.send_receipt id={id} msg=\"task succeeded\" " +
                        $"runtime={(random.NextDouble() * 12).ToString("F3", inv)}s");
            case "nginx":
                var status = random.Next(10) == 0 ? 500 : 200;
                return (status >= 500 ? "error" : "info", $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(1, 255)} - - " +
                    $"[24/Nov/2026:10:{i % 60:D2}:{i % 60:D2} +0000] \"GET {Paths[random.Next(Paths.Length)]} HTTP/1.1\" {status} " +
                    $"{random.Next(120, 90000)} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt={(random.NextDouble() * 2.5).ToString("F3", inv)}");
            case "spilo":
                return random.Next(20) == 0
                    ? ("error", $"ERROR:  duplicate key value violates unique constraint \"orders_pkey\" (pid {random.Next(100, 9999)})")
                    : ("info", $"LOG:  duration: {(random.NextDouble() * 400).ToString("F3", inv)} ms  statement: SELECT * FROM products WHERE id = " +
                        $"{random.Next(1, 9999)}");
            default:
                return ("info", $"{random.Next(1, 99)}:M 24 Nov 2026 10:00:{i % 60:D2}.000 * DB saved on disk");
        }
    }
}

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
/// The per-line stages of a push, each alone, on a batch shaped like perf.py's (160 streams of 12 entries; the lines are
/// <see cref="LogDataset"/>'s: Django JSON under a <c>level</c> stream label, Celery logfmt, Nginx access lines, PostgreSQL
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
        var apps = LogDataset.Apps;
        for (var app = 0; app < apps.Count; app++)
        {
            for (var pod = 0; pod < PodsPerApp; pod++)
            {
                var labels = $"{{namespace=\"jewelry-shop\", app=\"{apps[app]}\", pod=\"{apps[app]}-{random.Next(1 << 24):x6}-{pod}\", " +
                    $"container=\"{apps[app]}\", job=\"jewelry-shop/{apps[app]}\"";

                // As perf.py's shipper: Django's level is lifted into a stream label, so its lines come as one stream per level.
                var byLevel = new Dictionary<string, List<(long, byte[])>>();
                var perStream = EntriesPerStream * (app == 0 ? 3 : 1);
                for (var i = 0; i < perStream; i++)
                {
                    var line = LogDataset.Line((pod * apps.Count) + app, i);
                    var level = app == 0 ? JsonLevel(line) : "";
                    if (!byLevel.TryGetValue(level, out var entries))
                    {
                        byLevel[level] = entries = [];
                    }

                    entries.Add((now - ((perStream - i) * 1_000_000_000L) + random.Next(1_000_000_000), line));
                    lines.Add((app == 0 ? level : null, line));
                    RawBytes += line.Length;
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
        var table = new byte[SharedRank.Length][];
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = PushValidator.SharedEncodingAt(i);
        }

        WalRecord.BeginEntries(_record, 1, "fake", table, _validated.Streams.Count);
        foreach (var stream in _validated.Streams)
        {
            WalRecord.WriteStream(_record, WalLabels, stream.Entries, _batch, SharedRank);
        }

        return _record.WrittenCount;
    }

    // The whole shared table in the record, so each shared array's rank there is its number.
    private static readonly int[] SharedRank = [.. Enumerable.Range(0, PushValidator.SharedCount)];

    private static readonly byte[] WalLabels = WalRecord.EncodeLabels("{app=\"nginx\", namespace=\"jewelry-shop\", pod=\"nginx-0a1b2c-1\"}");

    // The value of a Django line's "level" field (LogDataset writes it first).
    private static string JsonLevel(byte[] line)
    {
        var text = Encoding.UTF8.GetString(line);
        const string key = "\"level\":\"";
        var start = text.IndexOf(key, StringComparison.Ordinal) + key.Length;
        return text[start..text.IndexOf('"', start)];
    }
}

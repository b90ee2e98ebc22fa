using BenchmarkDotNet.Attributes;
using LokiSharp.Benchmarks.Storage;
using LokiSharp.Ingester.Push;

namespace LokiSharp.Benchmarks.Push;

/// <summary>
/// A decoded push through the ingester: validation, limits, per-stream admission, the WAL record, its group
/// commit with fsync (what a client waits for before its 204), then the head append. One op is one push of
/// <see cref="Streams"/> × <see cref="EntriesPerStream"/> synthetic logfmt lines (the same on every run), with timestamps
/// that move forward on every push; the batch is filled in the op, as the decoder would. The head is flushed to
/// the chunk store after each iteration (outside the measurement) so memory stays bounded.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(32)]
public class IngesterPushBenchmarks
{
    private TempIngester _ingester = null!;
    private string[] _labels = [];
    private byte[][] _lines = [];
    private long _nextTimestamp;

    /// <summary>Streams per push.</summary>
    [Params(16)]
    public int Streams { get; set; } = 16;

    /// <summary>Entries per stream per push.</summary>
    [Params(64)]
    public int EntriesPerStream { get; set; } = 64;

    [GlobalSetup]
    public void Setup()
    {
        _ingester = new TempIngester();
        _labels = new string[Streams];
        for (var s = 0; s < Streams; s++)
        {
            _labels[s] = $"{{app=\"app-{s % 4}\", namespace=\"jewelry-shop\", pod=\"pod-{s}\"}}";
        }

        // Lines are under 256 bytes, so this is more than enough of them.
        _lines = [.. SyntheticLogs.Generate(Streams * EntriesPerStream * 256).Take(Streams * EntriesPerStream).Select(l => l.Line)];

        // An hour ago: well inside the accepted window however long the run takes (a microsecond per entry).
        _nextTimestamp = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000) * 1_000_000;
    }

    [IterationCleanup]
    public void FlushHead() => _ingester.FlushAll();

    [GlobalCleanup]
    public void Cleanup() => _ingester.Dispose();

    [Benchmark]
    public async Task Push()
    {
        using var batch = new PushBatch(64 * 1024);
        var first = _nextTimestamp;
        for (var s = 0; s < _labels.Length; s++)
        {
            batch.BeginStream(_labels[s]);
            for (var i = 0; i < EntriesPerStream; i++)
            {
                batch.AddEntry(first + (i * 1000L), _lines[(s * EntriesPerStream) + i]);
            }
        }

        _nextTimestamp = first + (EntriesPerStream * 1000L);
        await _ingester.PushAsync(batch).ConfigureAwait(false);
    }
}

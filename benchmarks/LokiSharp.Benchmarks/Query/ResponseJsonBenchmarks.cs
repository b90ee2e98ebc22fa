using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LokiSharp.Benchmarks.Push;
using LokiSharp.Benchmarks.Storage;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Benchmarks.Query;

/// <summary>
/// Loki's JSON response shapes written into a reused buffer (so the op is the writer's own work): a streams
/// result of 1000 entries over <see cref="Streams"/> streams, as a log query returns it, and a matrix of
/// <see cref="Series"/> series × 120 points (two hours at a one-minute step, a dashboard panel).
/// </summary>
[MemoryDiagnoser]
public class ResponseJsonBenchmarks
{
    private const int Points = 120;

    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
    private readonly QueryStatistics _stats = new();
    private Utf8JsonWriter _writer = null!;
    private LogQueryResult _streams = null!;
    private MatrixResult _matrix = null!;

    /// <summary>Streams in the streams result.</summary>
    [Params(16)]
    public int Streams { get; set; } = 16;

    /// <summary>Series in the matrix result.</summary>
    [Params(50)]
    public int Series { get; set; } = 50;

    [GlobalSetup]
    public void Setup()
    {
        _writer = new Utf8JsonWriter(_buffer, LokiJson.WriterOptions);
        _streams = QueryStreams();

        // Aligned to the step, as Grafana aligns a range query: the same digits to format on every run.
        var start = ((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 60_000L) - Points) * 60_000L;
        var random = new Random(42);
        var series = new List<MetricSeries>(Series);
        for (var s = 0; s < Series; s++)
        {
            var points = new MetricPoint[Points];
            for (var p = 0; p < Points; p++)
            {
                points[p] = new MetricPoint(start + (p * 60_000L), Math.Round(random.NextDouble() * 100, 3));
            }

            series.Add(new MetricSeries(LabelSet.From(("app", "app-" + (s % 4)), ("namespace", "jewelry-shop"), ("pod", "pod-" + s)), points));
        }

        _matrix = new MatrixResult(series);
    }

    [GlobalCleanup]
    public void Cleanup() => _writer.Dispose();

    [Benchmark]
    public long WriteStreams()
    {
        Reset();
        LokiJson.WriteStreams(_writer, _streams, categorizeLabels: false);
        _writer.Flush();
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public long WriteMatrix()
    {
        Reset();
        LokiJson.WriteMetric(_writer, _matrix, _stats, []);
        _writer.Flush();
        return _buffer.WrittenCount;
    }

    private void Reset()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
    }

    // A real result (entries carry the pipeline's label results): 64 lines per stream pushed to a head, the newest 1000 read back.
    private LogQueryResult QueryStreams()
    {
        using var ingester = new TempIngester();
        var start = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000) * 1_000_000;

        // The same lines on every run: their levels become detected_level metadata, which splits the result's streams.
        var lines = SyntheticLogs.Generate(Streams * 64 * 256);
        using (var batch = new PushBatch(1 << 20))
        {
            for (var s = 0; s < Streams; s++)
            {
                batch.BeginStream($"{{app=\"app-{s % 4}\", namespace=\"jewelry-shop\", pod=\"pod-{s}\"}}");
                for (var i = 0; i < 64; i++)
                {
                    batch.AddEntry(start + (i * 1_000_000L) + s, lines[(s * 64) + i].Line);
                }
            }

            ingester.PushAsync(batch).GetAwaiter().GetResult();
        }

        return new LogQueryEngine([ingester.Ingester])
            .Select(new LogQuery(TempIngester.Tenant, LogQLParser.ParseLogSelector("{namespace=\"jewelry-shop\"}"), start,
                start + (64 * 1_000_000L), 1000, Direction.Backward), CancellationToken.None);
    }
}

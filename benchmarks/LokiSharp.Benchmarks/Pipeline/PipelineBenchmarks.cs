using System.Text;
using BenchmarkDotNet.Attributes;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.Benchmarks.Pipeline;

/// <summary>Realistic 100–300 byte log lines, generated deterministically.</summary>
internal static class PipelineCorpus
{
    private static readonly string[] Paths = ["/api/v1/users", "/api/v1/orders/123", "/healthz", "/static/app.js", "/api/v2/search?q=shoes"];
    private static readonly string[] Levels = ["info", "info", "info", "warn", "debug"];

    /// <summary>About <paramref name="totalBytes"/> of mixed logfmt access-log lines.</summary>
    public static byte[][] Lines(int totalBytes)
    {
        var random = new Random(42);
        var lines = new List<byte[]>();
        var size = 0;
        while (size < totalBytes)
        {
            var line = $"ts=2024-05-01T12:{random.Next(60):D2}:{random.Next(60):D2}.{random.Next(1000):D3}Z level={Levels[random.Next(Levels.Length)]} " +
                       $"method=GET path={Paths[random.Next(Paths.Length)]} status={200 + (random.Next(10) == 0 ? 300 : 0)} " +
                       $"duration={random.Next(1, 900)}ms bytes={random.Next(100, 90000)} client=10.{random.Next(255)}.{random.Next(255)}.{random.Next(255)} " +
                       $"user_agent=\"Mozilla/5.0 (X11; Linux x86_64)\" trace_id={random.NextInt64():x16}";
            var bytes = Encoding.UTF8.GetBytes(line);
            lines.Add(bytes);
            size += bytes.Length;
        }

        return [.. lines];
    }

    public static StreamPipeline Stream(string query, string stream = "{app=\"web\", env=\"prod\"}") =>
        LogPipeline.Compile(LogQLParser.ParseLogSelector(query)).ForStream(LabelSetParser.Parse(stream));
}

/// <summary>
/// Line filters over a 4 MiB corpus of ~220-byte lines (one op = the whole corpus; GB/s = 4 MiB / mean). Targets:
/// substring ≥ 2 GB/s, <c>(?i)</c> literal ≥ 1 GB/s.
/// </summary>
[MemoryDiagnoser]
public class PipelineLineFilterBenchmarks
{
    private byte[][] _lines = [];
    private StreamPipeline _substring = null!;
    private StreamPipeline _ignoreCase = null!;
    private StreamPipeline _ignoreCaseWord = null!;
    private StreamPipeline _alternation = null!;
    private StreamPipeline _regex = null!;

    /// <summary>Bytes in the corpus.</summary>
    public long CorpusBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _lines = PipelineCorpus.Lines(4 << 20);
        CorpusBytes = _lines.Sum(static l => (long)l.Length);
        _substring = PipelineCorpus.Stream("{app=\"web\"} |= \"status=500\"");
        _ignoreCase = PipelineCorpus.Stream("{app=\"web\"} |~ \"(?i)STATUS=500\"");
        _ignoreCaseWord = PipelineCorpus.Stream("{app=\"web\"} |~ \"(?i)timeout\"");
        _alternation = PipelineCorpus.Stream("{app=\"web\"} |~ \"error|timeout|status=500\"");
        _regex = PipelineCorpus.Stream("{app=\"web\"} |~ \"status=5\\\\d\\\\d\"");
        Console.WriteLine($"// corpus: {_lines.Length} lines, {CorpusBytes} bytes");
    }

    private int Run(StreamPipeline pipeline)
    {
        var kept = 0;
        foreach (var line in _lines)
        {
            if (pipeline.Process(0, line, default, out _, out _))
            {
                kept++;
            }
        }

        return kept;
    }

    [Benchmark(Baseline = true)]
    public int Substring() => Run(_substring);

    [Benchmark]
    public int IgnoreCaseLiteral() => Run(_ignoreCase);

    /// <summary>The reference workload's <c>(?i)timeout</c>: a word of common letters, absent from the corpus.</summary>
    [Benchmark]
    public int IgnoreCaseWord() => Run(_ignoreCaseWord);

    [Benchmark]
    public int LiteralAlternation() => Run(_alternation);

    [Benchmark]
    public int Regex() => Run(_regex);
}

/// <summary>
/// Per-line parser and formatter costs. Targets: json ≤ 400 ns, logfmt ≤ 250 ns, line_format (2 fields) ≤ 300 ns.
/// Min and median are shown next to the mean, which other work on a shared machine inflates.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class PipelineStageBenchmarks
{
    private static readonly byte[] JsonLine = Encoding.UTF8.GetBytes(
        "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"info\",\"method\":\"GET\",\"path\":\"/api/v1/users\",\"status\":200," +
        "\"duration_ms\":12.5,\"user\":{\"id\":42,\"name\":\"alice\"},\"ok\":true,\"client\":\"10.1.2.3\"}");

    private static readonly byte[] LogfmtLine = Encoding.UTF8.GetBytes(
        "ts=2024-05-01T12:00:00.123Z level=info method=GET path=/api/v1/users status=200 duration=12ms msg=\"request done\"");

    private static readonly byte[] PlainLine = Encoding.UTF8.GetBytes("GET /api/v1/users 200 12ms");

    private StreamPipeline _json = null!;
    private StreamPipeline _logfmt = null!;
    private StreamPipeline _lineFormat = null!;
    private StreamPipeline _jsonFilter = null!;
    private StreamPipeline _pattern = null!;

    private static readonly byte[] NginxLine = Encoding.UTF8.GetBytes(
        "10.1.2.3 - - [01/May/2024:12:00:00 +0000] \"GET /api/v1/users?page=2 HTTP/1.1\" 200 5316 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"");

    [GlobalSetup]
    public void Setup()
    {
        _json = PipelineCorpus.Stream("{app=\"web\"} | json");
        _logfmt = PipelineCorpus.Stream("{app=\"web\"} | logfmt");
        _lineFormat = PipelineCorpus.Stream("{app=\"web\"} | line_format \"{{.level}} {{.app}}\"", "{app=\"web\", level=\"info\"}");
        _jsonFilter = PipelineCorpus.Stream("{app=\"web\"} | json | status >= 500");
        _pattern = PipelineCorpus.Stream("{app=\"web\"} | pattern \"<_> \\\"<_> <_> <_>\\\" <status> <_>\"");
        Console.WriteLine($"// json line: {JsonLine.Length} bytes, logfmt line: {LogfmtLine.Length} bytes");
    }

    [Benchmark]
    public bool Json() => _json.Process(0, JsonLine, default, out _, out _);

    [Benchmark]
    public bool JsonThenStatusFilter() => _jsonFilter.Process(0, JsonLine, default, out _, out _);

    /// <summary>The reference workload's nginx pattern (one named capture after four unnamed ones).</summary>
    [Benchmark]
    public bool Pattern() => _pattern.Process(0, NginxLine, default, out _, out _);

    [Benchmark]
    public bool Logfmt() => _logfmt.Process(0, LogfmtLine, default, out _, out _);

    [Benchmark]
    public bool LineFormatTwoFields() => _lineFormat.Process(0, PlainLine, default, out _, out _);
}

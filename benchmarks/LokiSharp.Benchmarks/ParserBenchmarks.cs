using BenchmarkDotNet.Attributes;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.Benchmarks;

/// <summary>LogQL parsing of typical dashboard queries (target: at most 20 µs each).</summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    [Params(
        "{app=\"web\", env=\"prod\"} |= \"error\" | json | status >= 500",
        "sum by (status) (rate({app=\"web\", env=\"prod\"} |= \"GET\" | logfmt | duration > 250ms [5m]))",
        "quantile_over_time(0.99, {app=\"web\"} | json | unwrap duration_seconds(latency) | __error__=\"\" [5m]) by (route)",
        "sum(rate({app=\"web\"} |= \"error\" [5m])) / sum(rate({app=\"web\"}[5m])) * 100")]
    public string Query { get; set; } = string.Empty;

    [Benchmark]
    public Expr Parse() => LogQLParser.Parse(Query);

    [Benchmark]
    public string ParseAndFormat() => LogQLParser.Parse(Query).ToString();
}

using System.Text;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>
/// Parsers remember the keys of the previous line to read the next one faster: a line must get the same labels,
/// line and error whatever lines the same stream pipeline saw before it.
/// </summary>
public sealed class ParserSequenceTests
{
    private static readonly string[] JsonLines =
    [
        "{\"a\":\"1\",\"b\":{\"c\":2,\"d\":\"x\"},\"e\":true}",
        "{\"a\":\"1\",\"b\":{\"c\":2,\"d\":\"x\"},\"e\":true}",
        "{\"a\":\"2\",\"b\":3,\"c\":2,\"d\":\"x\",\"e\":false}",
        "{\"a\":\"2\",\"b\":{\"c\":{\"d\":\"deep\"}},\"e\":1}",
        "{\"b\":{\"c\":2,\"d\":\"x\"},\"a\":\"1\",\"e\":true}",
        "{\"a\":\"1\",\"b\":{\"c\":2,\"d\":\"x\"},\"e\":true,\"f\":[1,{\"g\":2}],\"h\":null}",
        "{\"a\":\"1\",\"b\":{\"c\":2,\"d\":\"x\"}}",
        "{\"a\\\"q\":\"esc\",\"b\":{\"c\":2}}",
        "{\"a\\u0041\":\"esc\",\"b\":{\"c\":2}}",
        "{\"aA\":\"raw\",\"b\":{\"c\":2}}",
        "{\"a\":\"1\",\"a\":\"dup\",\"b\":{\"c\":2}}",
        "{\"a\":\"1\",\"b\":{\"c\":2,\"d\":\"x\"},\"e\":tru}",
        "{\"a\":\"1\",\"b\":{\"c\":2,\"d\":\"x\"},\"e\"",
        "{\"a\" :\"1\", \"b\" : {\"c\" : 2}}",
        "{\"a\":\"1\",\"b\":{},\"c\":{\"d\":\"x\"}}",
        "{\"app\":\"shadow\",\"b\":{\"app\":\"nested\"}}",
        "{\"a\":\"1\",\"b\":{\"c\":2,\"d\":\"x\"},\"e\":true}",
        "not json",
        "{\"a\":\"1\",\"b\":{\"c\":2,\"d\":\"x\"},\"e\":true}",
        Wide(70, "v"),
        Wide(70, "w"),
        Wide(66, "w"),
        "{\"a\":\"1\",\"b\":{\"c\":2,\"d\":\"x\"},\"e\":true}",
    ];

    private static readonly string[] LogfmtLines =
    [
        "level=info method=GET status=200 msg=\"done\"",
        "level=info method=GET status=200 msg=\"done\"",
        "level=warn status=500 method=POST",
        "level=info level=debug method=GET",
        "lev=info method=GET",
        "level= method=GET =oops status=\"unterminated",
        "level=info mé=x method=GET",
        "app=shadow level=info",
        "level=\"a \\\"quoted\\\" value\" method=GET",
        "level=info method=GET status=200 msg=\"done\"",
        Logfmt(70, "v"),
        Logfmt(66, "w"),
        "level=info method=GET status=200 msg=\"done\"",
    ];

    public static TheoryData<string> Queries => new()
    {
        "{app=\"web\"} | json",
        "{app=\"web\"} | json | a != \"\" or c != \"\"",
        "{app=\"web\"} | json | b_c_d = \"deep\"",
        "{app=\"web\"} | logfmt",
        "{app=\"web\"} | logfmt --strict --keep-empty",
        "{app=\"web\"} | logfmt | level = \"info\"",
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void EveryLineGetsWhatAFreshPipelineGivesIt(string query)
    {
        var lines = query.Contains("json", StringComparison.Ordinal) ? JsonLines : LogfmtLines;
        var pipeline = PipelineRunner.Compile(query);
        var stream = pipeline.ForStream(LabelSetParser.Parse(PipelineRunner.DefaultStream));

        // Forwards, backwards and then each line twice, so every line follows lines of other shapes.
        var order = Enumerable.Range(0, lines.Length).Concat(Enumerable.Range(0, lines.Length).Reverse())
            .Concat(Enumerable.Range(0, lines.Length).SelectMany(static i => new[] { i, i }));
        var previous = -1;
        foreach (var i in order)
        {
            var bytes = Encoding.UTF8.GetBytes(lines[i]);
            var expected = PipelineRunner.Run(PipelineRunner.Compile(query), bytes);
            var kept = stream.Process(0, bytes, default, out var output, out var labels);
            Assert.True(expected.Kept == kept, $"line {i} kept: {lines[i]}");
            if (kept)
            {
                Assert.True(expected.Labels == labels.All.ToString(), $"after {previous}: line {i} {lines[i]} got {labels.All}, expected {expected.Labels}");
                Assert.Equal(expected.Line, Encoding.UTF8.GetString(output));
            }

            previous = i;
        }
    }

    private static string Wide(int keys, string prefix) =>
        "{" + string.Join(",", Enumerable.Range(0, keys).Select(k => $"\"{prefix}{k}\":{{\"x\":{k}}}")) + "}";

    private static string Logfmt(int keys, string prefix) =>
        string.Join(" ", Enumerable.Range(0, keys).Select(k => $"{prefix}{k}={k}"));
}

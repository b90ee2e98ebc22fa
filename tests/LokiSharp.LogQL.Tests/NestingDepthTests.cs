using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Evaluation;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Tests.Evaluation;
using LokiSharp.LogQL.Tests.Pipeline;

namespace LokiSharp.LogQL.Tests;

/// <summary>
/// <see cref="LogQLParser.MaxNestingDepth"/>: queries at the limit parse and survive every walk, one level more is a
/// parse error, and hostile depths far beyond it are refused instead of overflowing the stack.
/// </summary>
public sealed class NestingDepthTests
{
    private const int Limit = LogQLParser.MaxNestingDepth;
    private const string Refused = "parse error : query nesting depth exceeds the limit of 256";

    // Each builder gives a query of exactly the given nesting depth.
    public static TheoryData<string> Shapes() => ["sum", "parens", "addParens", "filterParens", "rangeParens", "binaryChain",
        "powerChain", "orChain", "commaChain", "juxtaposedChain", "unwrapChain", "rangeOrChain", "sumRange", "rangeChain"];

    private static string Query(string shape, int depth) => shape switch
    {
        // sum(...(vector(1))...): depth - 1 aggregations around vector(1), whose own "(" is the last bracket level.
        "sum" => Repeat("sum(", depth - 1) + "vector(1)" + new string(')', depth - 1),
        "parens" => new string('(', depth - 1) + "vector(1)" + new string(')', depth - 1),
        "addParens" => Repeat("vector(1) + (", depth - 1) + "vector(1)" + new string(')', depth - 1),
        "oneAddParens" => Repeat("1 + (", depth - 1) + "vector(1)" + new string(')', depth - 1),
        "filterParens" => "{app=\"web\"} | logfmt | " + new string('(', depth) + "x=\"1\"" + new string(')', depth),
        "rangeParens" => "count_over_time(" + new string('(', depth - 2) + "{app=\"web\"}[1m]" + new string(')', depth - 2) + ")",
        "binaryChain" => string.Join(" + ", Enumerable.Repeat("vector(1)", depth)),
        "powerChain" => string.Join(" ^ ", Enumerable.Repeat("vector(1)", depth)),
        "orChain" => "{app=\"web\"} | logfmt | " + string.Join(" or ", Enumerable.Repeat("x=\"1\"", depth)),
        "commaChain" => "{app=\"web\"} | logfmt | " + string.Join(", ", Enumerable.Repeat("x=\"1\"", depth)),
        "juxtaposedChain" => "{app=\"web\"} | logfmt | " + string.Join(" ", Enumerable.Repeat("x=\"1\"", depth)),
        "unwrapChain" => "sum_over_time({app=\"web\"} | logfmt | unwrap n | " + string.Join(" or ", Enumerable.Repeat("x=\"1\"", depth - 1)) + " [1m])",
        "rangeOrChain" => "count_over_time({app=\"web\"} | " + string.Join(" or ", Enumerable.Repeat("x=\"1\"", depth - 1)) + " [1m])",
        // A range aggregation's selector is one level below it (its braces print inside the parentheses).
        "sumRange" => Repeat("sum(", depth - 2) + "count_over_time({app=\"web\"}[1m])" + new string(')', depth - 2),
        "rangeChain" => string.Join(" ^ ", Enumerable.Repeat("count_over_time({app=\"web\"}[1m])", depth - 1)),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AtTheLimitParsesAndPrintsItsCanonicalFormBack(string shape)
    {
        // The canonical form (fully parenthesised) must stay within the limit too: format_query's output parses.
        var expr = LogQLParser.Parse(Query(shape, Limit));
        var canonical = expr.ToString();
        Assert.Equal(expr, LogQLParser.Parse(canonical));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OneLevelAboveTheLimitIsAParseError(string shape)
    {
        var e = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(Query(shape, Limit + 1)));
        Assert.Equal(Refused, e.Message);
    }

    [Theory]
    [InlineData("sum", 6000)]
    [InlineData("addParens", 6000)]
    [InlineData("oneAddParens", 6000)]
    [InlineData("parens", 15000)]
    [InlineData("filterParens", 15000)]
    [InlineData("rangeParens", 15000)]
    [InlineData("binaryChain", 10000)]
    [InlineData("powerChain", 10000)]
    [InlineData("orChain", 12000)]
    [InlineData("commaChain", 15000)]
    [InlineData("juxtaposedChain", 20000)]
    public void HostileDepthsAreRefusedNotOverflowed(string shape, int depth)
    {
        var query = Query(shape, depth);
        Assert.True(query.Length < LogQLParser.MaxInputSize);
        var e = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query));
        Assert.Equal(Refused, e.Message);
    }

    [Fact]
    public void UnbalancedOpenBracketsAreRefusedBeforeTheGrammarRuns()
    {
        var e = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(new string('(', 100_000)));
        Assert.Equal(Refused, e.Message);
    }

    [Theory]
    [InlineData(" + ", 20000)]
    [InlineData(" ^ ", 20000)]
    [InlineData(" * ", 20000)]
    public void LongLiteralChainsFoldToOneNumber(string op, int count)
    {
        // Loki folds literal arithmetic while parsing, so a long chain of literals is not deep at all.
        var expr = LogQLParser.Parse(string.Join(op, Enumerable.Repeat("1", count)));
        Assert.IsType<LiteralExpr>(expr);
    }

    [Fact]
    public void ASmallThreadStackGivesTheParseErrorNotACrash()
    {
        // The grammar's stack guard wants 128 KB free before each nested "(": a 160 KB thread has room for far fewer
        // than 256 levels however the JIT compiled the parser, so it must stop with the nesting error, not overflow.
        Exception? error = null;
        RunOnThread(160 * 1024, () => error = Record.Exception(() => LogQLParser.Parse(Query("sum", Limit))));
        Assert.Equal(Refused, Assert.IsType<LogQLParseException>(error).Message);
    }

    [Theory]
    [InlineData("sum")]
    [InlineData("sumRange")]
    [InlineData("rangeChain")]
    [InlineData("addParens")]
    [InlineData("binaryChain")]
    [InlineData("powerChain")]
    [InlineData("rangeOrChain")]
    [InlineData("unwrapChain")]
    public void MetricWalksAtTheLimitFitInAThreadPoolStack(string shape)
    {
        // Parsing, validation, printing, equality, hashing and evaluation all recurse over the tree; the limit keeps
        // the deepest of them within a thread-pool thread's 1.5 MB, where requests run. (At 1 MB it passed alone but
        // not always in the full run, where instrumented tiers of the parser's generic methods take bigger frames.)
        var source = new InMemorySampleSource().Add("app=web,x=1", (100, 0), (110, 0));
        string? printed = null;
        MetricResult? result = null;
        RunOnThread(ThreadPoolStack, () =>
        {
            var expr = (SampleExpr)LogQLParser.Parse(Query(shape, Limit));
            printed = expr.ToString();
            var again = LogQLParser.Parse(printed);
            Assert.Equal(expr, again);
            Assert.Equal(expr.GetHashCode(), again.GetHashCode());
            result = new MetricQueryEvaluator(source).Evaluate(expr,
                MetricQueryParameters.Range(InMemorySampleSource.Ns(60), InMemorySampleSource.Ns(120), InMemorySampleSource.Ns(60)));
        });
        Assert.NotNull(printed);
        Assert.IsType<MatrixResult>(result);
    }

    [Theory]
    [InlineData("filterParens")]
    [InlineData("orChain")]
    [InlineData("commaChain")]
    [InlineData("juxtaposedChain")]
    public void PipelineWalksAtTheLimitFitInAThreadPoolStack(string shape)
    {
        EntryOutcome? outcome = null;
        RunOnThread(ThreadPoolStack, () => outcome = PipelineRunner.Run(Query(shape, Limit), "x=1"));
        Assert.NotNull(outcome);
        Assert.True(outcome.Kept);
    }

    private const int ThreadPoolStack = 1536 * 1024;

    // Templates have their own, lower cap (Go's "max expression depth exceeded" text), for blocks and parentheses.
    private const int TemplateLimit = 100;

    [Theory]
    [InlineData("if", "x")]
    [InlineData("elseIf", "x")]
    [InlineData("parens", "1")]
    [InlineData("mixed", "1")]
    public void TemplatesAtTheLimitParseAndRun(string shape, string expected)
    {
        string? output = null;
        RunOnThread(ThreadPoolStack, () => output = PipelineRunner.Run("{app=\"web\"} | line_format `" + Template(shape, TemplateLimit) + "`", "line").Line);
        Assert.Equal(expected, output);
    }

    [Theory]
    [InlineData("if", TemplateLimit + 1)]
    [InlineData("elseIf", TemplateLimit + 1)]
    [InlineData("parens", TemplateLimit + 1)]
    [InlineData("mixed", TemplateLimit + 1)]
    [InlineData("if", 8000)]
    [InlineData("elseIf", 9000)]
    [InlineData("parens", 60000)]
    public void TemplatesAboveTheLimitAreAParseError(string shape, int depth)
    {
        const string error = "max expression depth exceeded";
        var template = Template(shape, depth);
        Assert.True(template.Length < LogQLParser.MaxInputSize);
        var e = Assert.Throws<LogQLParseException>(() => PipelineRunner.Compile("{app=\"web\"} | line_format `" + template + "`"));
        Assert.EndsWith("invalid line template: template: line:1: " + error, e.Message, StringComparison.Ordinal);
        e = Assert.Throws<LogQLParseException>(() => PipelineRunner.Compile("{app=\"web\"} | label_format x=`" + template + "`"));
        Assert.EndsWith("template: label:1: " + error, e.Message, StringComparison.Ordinal);
    }

    // Each template nests exactly "depth" blocks or parenthesized pipelines.
    private static string Template(string shape, int depth) => shape switch
    {
        "if" => Repeat("{{if 1}}", depth) + "x" + Repeat("{{end}}", depth),
        "elseIf" => "{{if 0}}" + Repeat("{{else if 0}}", depth - 1) + "{{else}}x{{end}}",
        "parens" => "{{" + new string('(', depth) + "1" + new string(')', depth) + "}}",
        "mixed" => Repeat("{{if 1}}", depth / 2) + "{{" + new string('(', depth - depth / 2) + "1" + new string(')', depth - depth / 2) + "}}" +
            Repeat("{{end}}", depth / 2),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    private static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));

    private static void RunOnThread(int stackBytes, Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() => failure = Record.Exception(action), stackBytes);
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new Xunit.Sdk.XunitException("failed on the small-stack thread: " + failure);
        }
    }
}

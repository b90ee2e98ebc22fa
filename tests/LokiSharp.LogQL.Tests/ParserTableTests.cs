using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests;

public sealed class ParserTableTests
{
    public static TheoryData<string, string> ValidCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (query, canonical) in QueryCases.Valid)
        {
            data.Add(query, canonical);
        }

        return data;
    }

    public static TheoryData<string, string> InvalidCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (query, error) in QueryCases.Invalid)
        {
            data.Add(query, error);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void ValidQueryPrintsLokiCanonicalForm(string query, string canonical) =>
        Assert.Equal(canonical, LogQLParser.Parse(query).ToString());

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void CanonicalFormParsesBackToTheSameTree(string query, string canonical)
    {
        if (QueryCases.NotRoundTrippable.Contains(query))
        {
            return;
        }

        var first = LogQLParser.Parse(query);
        var second = LogQLParser.Parse(canonical);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        Assert.Equal(canonical, second.ToString());
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void InvalidQueryFailsWithLokiMessage(string query, string error)
    {
        var e = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query));
        Assert.Equal(error, e.Message);
    }

    [Theory]
    [InlineData("{foo=\"bar\"", 1, 11)]
    [InlineData("min({ foo = \"bar\" }[5m])", 0, 20)]
    [InlineData("rate({a=\"b\"}[5m)", 0, 13)]
    [InlineData("{a=\"b\"}\n| json\n| x >", 3, 6)]
    [InlineData("{a=\"b\"}\n|= \"unterminated\n", 2, 4)]
    [InlineData("{a=\"b\"} |=\n", 1, 11)]
    public void ErrorPositionsFollowLokiScanner(string query, int line, int column)
    {
        var e = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query));
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
    }

    [Theory]
    [InlineData("1 + 2 * 3", 7)]
    [InlineData("(1 + 2) * 3", 9)]
    [InlineData("2 * 3 + 4", 10)]
    [InlineData("10 - 2 - 3", 5)]
    [InlineData("100 / 10 / 2", 5)]
    [InlineData("2 ^ 3 ^ 2", 512)]
    [InlineData("(2 ^ 3) ^ 2", 64)]
    [InlineData("-2 ^ 2", 4)]
    [InlineData("1 + 1 - -1", 3)]
    [InlineData("2 * 3 ^ 2", 18)]
    [InlineData("1 + 2 > 2", 1)]
    [InlineData("1 < 2 + 3", 1)]
    [InlineData("10 % 4 * 2", 4)]
    [InlineData("2 ^ 2 * 3", 12)]
    [InlineData("1 - 2 + 3", 2)]
    [InlineData("8 / 2 * 4", 16)]
    public void ScalarArithmeticFoldsWithLokiPrecedence(string query, double value)
    {
        var literal = Assert.IsType<LiteralExpr>(LogQLParser.Parse(query));
        Assert.Equal(value, literal.Value);
    }

    private const string A = "sum(rate({a=\"1\"}[1m]))";
    private const string B = "sum(rate({a=\"2\"}[1m]))";
    private const string C = "sum(rate({a=\"3\"}[1m]))";

    [Theory]
    [InlineData(A + " + " + B + " * " + C, "(A + (B * C))")]
    [InlineData(A + " * " + B + " + " + C, "((A * B) + C)")]
    [InlineData(A + " - " + B + " - " + C, "((A - B) - C)")]
    [InlineData(A + " / " + B + " / " + C, "((A / B) / C)")]
    [InlineData(A + " ^ " + B + " ^ " + C, "(A ^ (B ^ C))")]
    [InlineData(A + " or " + B + " and " + C, "(A or (B and C))")]
    [InlineData(A + " and " + B + " or " + C, "((A and B) or C)")]
    [InlineData(A + " unless " + B + " and " + C, "((A unless B) and C)")]
    [InlineData(A + " > " + B + " + " + C, "(A > (B + C))")]
    [InlineData(A + " + " + B + " > " + C, "((A + B) > C)")]
    [InlineData(A + " == " + B + " or " + C, "((A == B) or C)")]
    [InlineData(A + " or " + B + " == " + C, "(A or (B == C))")]
    [InlineData(A + " and " + B + " > " + C, "(A and (B > C))")]
    [InlineData(A + " % " + B + " ^ " + C, "(A % (B ^ C))")]
    [InlineData("(" + A + " + " + B + ") * " + C, "((A + B) * C)")]
    [InlineData(A + " * (" + B + " + " + C + ")", "(A * (B + C))")]
    [InlineData(A + " > bool " + B + " * " + C, "(A > bool (B * C))")]
    [InlineData(A + " <= " + B + " != " + C, "((A <= B) != C)")]
    public void BinaryOperatorsGroupAsInLoki(string query, string shape)
    {
        var printed = LogQLParser.Parse(query).ToString();
        var expected = shape.Replace("A", A, StringComparison.Ordinal).Replace("B", B, StringComparison.Ordinal).Replace("C", C, StringComparison.Ordinal);
        Assert.Equal(expected, printed);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{a=~\".*\"}")]
    [InlineData("{a!=\"x\"}")]
    [InlineData("sum(rate({a=\"\"}[5m]))")]
    public void AllowEmptyMatchersAcceptsWhatLokiRefuses(string query)
    {
        var options = new LogQLParserOptions { AllowEmptyMatchers = true };
        Assert.Equal(LogQLParser.Parse(query, options), LogQLParser.Parse(query, options));
        Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query));
    }

    [Fact]
    public void MultiLineQueriesParse()
    {
        var expr = LogQLParser.Parse("{app=\"x\"}\n\t|= \"multi\" # why\n\t| json\n");
        Assert.Equal("{app=\"x\"} |= \"multi\" | json", expr.ToString());
    }

    [Fact]
    public void OversizedQueryIsRejected()
    {
        var query = "{a=\"" + new string('x', LogQLParser.MaxInputSize) + "\"}";
        var e = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query));
        Assert.Equal("parse error : input size too long (" + query.Length + " > 131072)", e.Message);
    }

    [Fact]
    public void TypedEntryPointsCheckTheKind()
    {
        Assert.IsType<MatchersExpr>(LogQLParser.ParseMatchers("{a=\"b\"}"));
        Assert.Throws<LogQLParseException>(() => LogQLParser.ParseMatchers("{a=\"b\"} |= \"x\""));
        Assert.IsType<PipelineExpr>(LogQLParser.ParseLogSelector("{a=\"b\"} |= \"x\""));
        Assert.IsType<RangeAggregationExpr>(LogQLParser.ParseSampleExpr("rate({a=\"b\"}[1m])"));
    }

    [Fact]
    public void TreeExposesTheQueryParts()
    {
        var expr = Assert.IsType<VectorAggregationExpr>(LogQLParser.Parse(
            "sum by (app) (quantile_over_time(0.9, {app=\"x\"} | json | unwrap bytes(size) | __error__=\"\" [5m] offset 1m) by (app))"));
        Assert.Equal(VectorOp.Sum, expr.Op);
        var range = Assert.IsType<RangeAggregationExpr>(expr.Inner);
        Assert.Equal(0.9, range.Parameter);
        Assert.Equal(TimeSpan.FromMinutes(5), range.Range.Interval.ToTimeSpan());
        Assert.Equal(TimeSpan.FromMinutes(1), range.Range.Offset.ToTimeSpan());
        Assert.Equal(UnwrapConversion.Bytes, range.Range.Unwrap!.Conversion);
        Assert.Equal("size", range.Range.Unwrap.Identifier);
        Assert.Single(range.Range.Unwrap.PostFilters);
        var pipeline = Assert.IsType<PipelineExpr>(range.Range.Left);
        Assert.IsType<JsonParserExpr>(Assert.Single(pipeline.Stages));
        Assert.Equal("app", pipeline.Matchers[0].Name);
    }
}

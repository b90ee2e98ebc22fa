using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Syntax;
using LokiSharp.LogQL.Tests.Evaluation;
using static LokiSharp.LogQL.Tests.Evaluation.Eval;

namespace LokiSharp.LogQL.Tests;

/// <summary>
/// Walks <see cref="RangeFunction.All"/>: every row lexes as its function, parses, prints back, is refused where its
/// columns say so with Loki's messages, and evaluates. A new row needs only its expected value in <see cref="Expected"/>.
/// </summary>
public sealed class RangeFunctionTableTests
{
    // Instant values at t=120 over {app="a"} with samples (70, 2), (100, 4), (120, 6) in the window [1m]; the unwrapped
    // form where the function takes unwrap, the line form otherwise (bytes are the sample values there).
    private static readonly Dictionary<string, string> Expected = new()
    {
        ["count_over_time"] = "3",
        ["rate"] = "0.05",
        ["rate_counter"] = "0.08",
        ["bytes_over_time"] = "12",
        ["bytes_rate"] = "0.2",
        ["avg_over_time"] = "4",
        ["sum_over_time"] = "12",
        ["min_over_time"] = "2",
        ["max_over_time"] = "6",
        ["stdvar_over_time"] = "2.6666666666666665",
        ["stddev_over_time"] = "1.632993161855452",
        ["quantile_over_time"] = "4",
        ["first_over_time"] = "2",
        ["last_over_time"] = "6",
        ["absent_over_time"] = "none",
    };

    public static TheoryData<string> Functions()
    {
        var data = new TheoryData<string>();
        foreach (var function in RangeFunction.All)
        {
            data.Add(function.Name);
        }

        return data;
    }

    [Fact]
    public void Rows_are_in_RangeOp_order_and_cover_every_op()
    {
        var ops = Enum.GetValues<RangeOp>();
        Assert.Equal(ops.Length, RangeFunction.All.Count);
        for (var i = 0; i < ops.Length; i++)
        {
            Assert.Equal(ops[i], RangeFunction.All[i].Op);
            Assert.Same(RangeFunction.All[i], RangeFunction.Of(ops[i]));
        }

        Assert.Equal(RangeFunction.All.Count, RangeFunction.All.Select(f => f.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void Name_is_a_keyword_only_before_a_parenthesis(string name)
    {
        var function = Row(name);
        var call = Lexer.Tokenize(name + "(");
        Assert.Equal(TokenKind.RangeFunction, call[0].Kind);
        Assert.Equal((long)function.Op, call[0].Value);
        Assert.Equal(name.ToUpperInvariant(), call[0].Name);

        var label = Lexer.Tokenize(name + "=");
        Assert.Equal(TokenKind.Identifier, label[0].Kind);
        Assert.IsType<MatchersExpr>(LogQLParser.Parse("{" + name + "=\"x\"}"));
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void Parses_and_prints_back(string name)
    {
        var function = Row(name);
        var (query, canonical) = Query(function, withUnwrap: function.Unwrap != UnwrapUse.Never, withGrouping: function.AllowsGrouping);
        var expr = Assert.IsType<RangeAggregationExpr>(LogQLParser.Parse(query));
        Assert.Equal(function.Op, expr.Op);
        Assert.Equal(canonical, expr.ToString());
        Assert.Equal(expr, LogQLParser.Parse(canonical));
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void Refuses_what_its_columns_refuse_with_Loki_messages(string name)
    {
        var function = Row(name);
        if (function.Unwrap == UnwrapUse.Optional)
        {
            Assert.IsType<RangeAggregationExpr>(LogQLParser.Parse(Query(function, withUnwrap: true, withGrouping: false).Query));
            Assert.IsType<RangeAggregationExpr>(LogQLParser.Parse(Query(function, withUnwrap: false, withGrouping: false).Query));
        }
        else
        {
            var wrong = Query(function, withUnwrap: function.Unwrap == UnwrapUse.Never, withGrouping: false).Query;
            var with = function.Unwrap == UnwrapUse.Never ? "with" : "without";
            Assert.Equal("parse error : invalid aggregation " + name + " " + with + " unwrap", ParseError(wrong));
        }

        var withUnwrap = function.Unwrap != UnwrapUse.Never;
        if (!function.AllowsGrouping)
        {
            Assert.Equal("parse error : grouping not allowed for " + name + " aggregation",
                ParseError(Query(function, withUnwrap, withGrouping: true).Query));
        }

        var selector = "{app=\"a\"}" + (withUnwrap ? " | unwrap v" : string.Empty) + " [1m])";
        Assert.Equal(
            function.TakesParameter
                ? "parse error : parameter required for operation " + name
                : "parse error : parameter 0.5 not supported for operation " + name,
            ParseError(name + "(" + (function.TakesParameter ? string.Empty : "0.5, ") + selector));
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void Evaluates(string name)
    {
        var function = Row(name);
        Assert.True(Expected.TryGetValue(name, out var expected), "add the expected value of " + name + " to Expected");
        var source = new InMemorySampleSource().Add("app=a", (60, 1), (70, 2), (100, 4), (120, 6));
        var (query, _) = Query(function, withUnwrap: function.Unwrap == UnwrapUse.Required, withGrouping: false);
        var rendered = Render(Instant(source, query, 120));
        Assert.Equal(expected == "none" ? string.Empty : "{app=\"a\"} 120=" + expected, rendered);
    }

    private static RangeFunction Row(string name) => RangeFunction.All.Single(f => f.Name == name);

    private static (string Query, string Canonical) Query(RangeFunction function, bool withUnwrap, bool withGrouping)
    {
        var parameter = function.TakesParameter ? "0.5" : null;
        var unwrap = withUnwrap ? " | unwrap v" : string.Empty;
        var grouping = withGrouping ? " by (app)" : string.Empty;
        var query = function.Name + "(" + (parameter is null ? string.Empty : parameter + ", ") + "{app=\"a\"}" + unwrap + " [1m])" + grouping;
        var canonical = function.Name + "(" + (parameter is null ? string.Empty : parameter + ",") + "{app=\"a\"}" + unwrap + "[1m])" + grouping;
        return (query, canonical);
    }

    private static string ParseError(string query) => Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query)).Message;
}

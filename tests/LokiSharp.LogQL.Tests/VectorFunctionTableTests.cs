using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests;

/// <summary>
/// Walks <see cref="VectorFunction.All"/>: every row lexes as its operator, parses, prints back, and is refused where its
/// columns say so with Loki's messages.
/// </summary>
public sealed class VectorFunctionTableTests
{
    private const string Inner = "count_over_time({app=\"a\"}[1m])";

    public static TheoryData<string> Functions()
    {
        var data = new TheoryData<string>();
        foreach (var function in VectorFunction.All)
        {
            data.Add(function.Name);
        }

        return data;
    }

    [Fact]
    public void Rows_are_in_VectorOp_order_and_cover_every_op()
    {
        var ops = Enum.GetValues<VectorOp>();
        Assert.Equal(ops.Length, VectorFunction.All.Count);
        for (var i = 0; i < ops.Length; i++)
        {
            Assert.Equal(ops[i], VectorFunction.All[i].Op);
            Assert.Same(VectorFunction.All[i], VectorFunction.Of(ops[i]));
        }
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void Name_is_a_keyword_only_before_a_parenthesis(string name)
    {
        var function = Row(name);
        var call = Lexer.Tokenize(name + " by (");
        Assert.Equal(TokenKind.VectorFunction, call[0].Kind);
        Assert.Equal((long)function.Op, call[0].Value);
        Assert.Equal(name.ToUpperInvariant(), call[0].Name);
        Assert.IsType<MatchersExpr>(LogQLParser.Parse("{" + name + "=\"x\"}"));
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void Parses_and_prints_back(string name)
    {
        var function = Row(name);
        var parameter = function.TakesParameter ? "2," : string.Empty;
        var canonical = name + "(" + parameter + Inner + ")";
        var expr = Assert.IsType<VectorAggregationExpr>(LogQLParser.Parse(name + "(" + parameter + " " + Inner + ")"));
        Assert.Equal(function.Op, expr.Op);
        Assert.Equal(canonical, expr.ToString());
        if (function.Grouping == GroupingUse.Any)
        {
            var grouped = LogQLParser.Parse(name + "(" + parameter + Inner + ") by (app)");
            Assert.Equal(name + " by (app)(" + parameter + Inner + ")", grouped.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(Functions))]
    public void Refuses_what_its_columns_refuse_with_Loki_messages(string name)
    {
        var function = Row(name);
        var parameter = function.TakesParameter ? "2, " : string.Empty;
        var grouped = name + " by (app) (" + parameter + Inner + ")";
        switch (function.Grouping)
        {
            case GroupingUse.None:
                Assert.Equal("parse error : grouping not allowed for " + name + " aggregation", ParseError(grouped));
                break;
            case GroupingUse.EmptyOnly:
                Assert.Equal("parse error : sort and sort_desc doesn't allow grouping by ", ParseError(grouped));
                break;
            default:
                Assert.IsType<VectorAggregationExpr>(LogQLParser.Parse(grouped));
                break;
        }

        Assert.Equal(
            function.TakesParameter
                ? "parse error : parameter required for operation " + name
                : "parse error : unsupported parameter for operation " + name + "(2,",
            ParseError(name + "(" + (function.TakesParameter ? string.Empty : "2, ") + Inner + ")"));
    }

    private static VectorFunction Row(string name) => VectorFunction.All.Single(f => f.Name == name);

    private static string ParseError(string query) => Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query)).Message;
}

using System.Text;
using LokiSharp.LogQL.Ast;
using Pidgin;

namespace LokiSharp.LogQL.Syntax;

/// <summary>Parses LogQL queries into an immutable AST, with Loki's validation and error messages.</summary>
public static class LogQLParser
{
    /// <summary>Loki's limit on query size, in bytes.</summary>
    public const int MaxInputSize = 131072;

    /// <summary>
    /// The deepest a query may nest, in brackets (<c>(</c>, <c>{</c>) and in expression nodes (operations,
    /// aggregations, selectors, label filter <c>and</c>/<c>or</c>/<c>,</c> chains: <c>a + b + c</c> nests too,
    /// and an accepted query's canonical form never nests deeper than the query's tree). Loki has no
    /// such limit (Go stacks grow); ours turns what would overflow a fixed thread stack into a 400
    /// <c>parse error : query nesting depth exceeds the limit of 256</c>. Real queries nest a few levels.
    /// </summary>
    /// <remarks>
    /// Every recursive walk of a parsed tree is bounded by this depth and left recursive on purpose: the grammar,
    /// <see cref="Validator"/>, the canonical form (<see cref="Expr.WriteTo"/>), record equality and hashing, pipeline
    /// compilation and the per-line label filter predicates, <c>ParserHints</c>, and metric evaluation
    /// (<c>MetricQueryEvaluator</c> and the step evaluators it nests). The grammar is the deepest: up to about 2 KB
    /// of stack per bracket level before the JIT optimises it, half a megabyte at the limit, against 1.5 MB for a
    /// thread-pool thread; it also checks for free stack at each level, so a smaller stack gets this same error
    /// (<c>NestingDepthTests</c> runs every walk at the limit on a 1 MB thread, and the parser on a 160 KB one).
    /// Operator chains, which the parser folds without recursing (<see cref="Factory"/>), are measured iteratively
    /// before any walk sees them.
    /// </remarks>
    public const int MaxNestingDepth = 256;

    /// <summary>Parses and validates <paramref name="query"/>.</summary>
    /// <exception cref="LogQLParseException">The query is invalid; the message is Loki's.</exception>
    public static Expr Parse(string query, LogQLParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        var byteCount = query.Length < MaxInputSize / 3 ? query.Length : Encoding.UTF8.GetByteCount(query);
        if (byteCount >= MaxInputSize)
        {
            throw new LogQLParseException("input size too long (" + byteCount + " > " + MaxInputSize + ")");
        }

        var tokens = Lexer.Tokenize(query);
        NestingDepth.CheckBrackets(tokens);
        Result<Token, Expr> result;
        ExpectedTokens.Reset();
        try
        {
            result = Grammar.Query.Parse(tokens);
        }
        catch (SyntaxErrorAtException e)
        {
            throw SyntaxError(tokens, e.Offset, []);
        }
        catch (ArgumentException e)
        {
            throw new LogQLParseException(e.Message, e);
        }

        if (!result.Success)
        {
            var offset = Math.Max(result.Error!.ErrorOffset, ExpectedTokens.Furthest);
            throw SyntaxError(tokens, offset, offset == ExpectedTokens.Furthest ? ExpectedTokens.Kinds() : []);
        }

        NestingDepth.CheckTree(result.Value);
        Validator.Validate(result.Value, options ?? LogQLParserOptions.Default);
        return result.Value;
    }

    /// <summary>Parses a query that must be a log query (a selector with an optional pipeline).</summary>
    public static LogSelectorExpr ParseLogSelector(string query, LogQLParserOptions? options = null) =>
        Parse(query, options) as LogSelectorExpr ?? throw new LogQLParseException("only log selector is supported");

    /// <summary>Parses a query that must be a metric query.</summary>
    public static SampleExpr ParseSampleExpr(string query, LogQLParserOptions? options = null) =>
        Parse(query, options) as SampleExpr ?? throw new LogQLParseException("only sample expression supported");

    /// <summary>Parses a bare stream selector such as <c>{app="x"}</c> (the series and label APIs' <c>match[]</c>).</summary>
    public static MatchersExpr ParseMatchers(string selector, LogQLParserOptions? options = null) =>
        Parse(selector, options) as MatchersExpr ?? throw new LogQLParseException("only label matchers are supported");

    private static LogQLParseException SyntaxError(Token[] tokens, int offset, List<TokenKind> expected)
    {
        var token = tokens[Math.Clamp(offset, 0, tokens.Length - 1)];
        if (token.Kind == TokenKind.Error)
        {
            return new LogQLParseException(token.Text!, token.Line, token.Column);
        }

        var message = new StringBuilder("syntax error: unexpected ").Append(token.Name);
        AppendExpected(message, expected);
        return new LogQLParseException(message.ToString(), token.Line, token.Column);
    }

    // yacc lists at most four expected tokens, in token declaration order, and none when there are more.
    private static void AppendExpected(StringBuilder message, List<TokenKind> expected)
    {
        expected.RemoveAll(static k => k <= TokenKind.Error);
        if (expected.Count is 0 or > 4)
        {
            return;
        }

        expected.Sort();
        for (var i = 0; i < expected.Count; i++)
        {
            message.Append(i == 0 ? ", expecting " : " or ").Append(TokenNames.Of(expected[i]));
        }
    }
}

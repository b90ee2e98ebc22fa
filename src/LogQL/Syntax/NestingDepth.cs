using System.Runtime.CompilerServices;
using LokiSharp.LogQL.Ast;

namespace LokiSharp.LogQL.Syntax;

/// <summary>
/// Enforces <see cref="LogQLParser.MaxNestingDepth"/>: on the tokens before the recursive grammar runs, and on the
/// tree before anything walks it recursively. Both checks are loops, so they cannot overflow the stack themselves.
/// </summary>
internal static class NestingDepth
{
    public static readonly string Message = "query nesting depth exceeds the limit of " + LogQLParser.MaxNestingDepth;

    /// <summary>
    /// Refuses tokens whose brackets nest deeper than the limit. Every recursion of the grammar consumes a
    /// <c>(</c> first, so this bounds the parser's own depth before it starts.
    /// </summary>
    public static void CheckBrackets(Token[] tokens)
    {
        var depth = 0;
        foreach (var token in tokens)
        {
            switch (token.Kind)
            {
                case TokenKind.OpenParenthesis or TokenKind.OpenBrace:
                    if (++depth > LogQLParser.MaxNestingDepth)
                    {
                        throw new LogQLParseException(Message);
                    }

                    break;
                case TokenKind.CloseParenthesis or TokenKind.CloseBrace when depth > 0:
                    depth--;
                    break;
            }
        }
    }

    /// <summary>
    /// Refuses a tree deeper than the limit. Depth counts metric nodes (operations, aggregations, literals), label
    /// filter nodes and stream selectors on the longest path; a chain such as <c>a + b + c</c> or
    /// <c>x="1" or x="2"</c> nests one node per operator even without brackets. Every node prints at most one
    /// bracket level around what it contains, so an accepted tree's canonical form passes the bracket check too.
    /// </summary>
    public static void CheckTree(Expr root)
    {
        var pending = new Stack<(object Node, int Depth)>();
        pending.Push((root, 1));
        while (pending.TryPop(out var item))
        {
            var (node, depth) = item;
            if (depth > LogQLParser.MaxNestingDepth)
            {
                throw new LogQLParseException(Message);
            }

            switch (node)
            {
                case BinaryOpExpr binary:
                    pending.Push((binary.Left, depth + 1));
                    pending.Push((binary.Right, depth + 1));
                    break;
                case VectorAggregationExpr aggregation:
                    pending.Push((aggregation.Inner, depth + 1));
                    break;
                case LabelReplaceExpr replace:
                    pending.Push((replace.Inner, depth + 1));
                    break;
                case RangeAggregationExpr range:
                    // The selector's braces and the pipeline print inside the function's parentheses.
                    pending.Push((range.Range.Left, depth + 1));
                    if (range.Range.Unwrap is { } unwrap)
                    {
                        foreach (var filter in unwrap.PostFilters)
                        {
                            pending.Push((filter, depth + 1));
                        }
                    }

                    break;
                case PipelineExpr pipeline:
                    // Label filters print after the selector's braces have closed: at the selector's level.
                    foreach (var stage in pipeline.Stages)
                    {
                        if (stage is LabelFilterExpr { Filter: var filter })
                        {
                            pending.Push((filter, depth));
                        }
                    }

                    break;
                case BinaryLabelFilter filter:
                    pending.Push((filter.Left, depth + 1));
                    pending.Push((filter.Right, depth + 1));
                    break;
            }
        }
    }

    /// <summary>
    /// Throws the nesting error when the current thread's stack is nearly used up. A backstop for recursive
    /// descent on threads with unusually small stacks; the bracket limit keeps normal threads far from it.
    /// </summary>
    public static void EnsureStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new LogQLParseException(Message);
        }
    }
}

using System.Globalization;
using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;
using Pidgin;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.LogQL.Syntax;

/// <summary>
/// Builds AST nodes from grammar matches, applying Loki's construction-time checks. Checks Loki makes while
/// parsing (regex compilation, literal conversion in label filters) throw at once; checks Loki defers to validation
/// produce an <see cref="InvalidSampleExpr"/> that <see cref="Validator"/> reports in Loki's order.
/// </summary>
internal static class Factory
{
    public static LabelMatcher Matcher(string name, MatchType type, string value)
    {
        try
        {
            return new LabelMatcher(name, type, value);
        }
        catch (ArgumentException e)
        {
            // The regex does not compile; the message is Go's.
            throw new LogQLParseException(e.Message, e);
        }
    }

    private static void ValidateOrThrow(string pattern, string prefix)
    {
        if (GoRegex.Validate(pattern) is { } error)
        {
            throw new LogQLParseException(prefix + error);
        }
    }

    public static StageExpr LineFilter(LineFilterOp op, LineFilterArg first, IEnumerable<LineFilterArg> rest)
    {
        var args = new List<LineFilterArg> { first };
        args.AddRange(rest);
        return new LineFilterExpr(op, new EquatableArray<LineFilterArg>([.. args]));
    }

    public static LabelFilter LabelFilterTerm(string name, FilterOp op, FilterValue value)
    {
        var comparison = op switch
        {
            FilterOp.Eq => ComparisonOp.Equal,
            FilterOp.Neq => ComparisonOp.NotEqual,
            >= FilterOp.Cmp => (ComparisonOp)((int)op - (int)FilterOp.Cmp),
            _ => ComparisonOp.Equal,
        };
        switch (value.Kind)
        {
            case FilterValueKind.String:
                var type = op switch
                {
                    FilterOp.Eq => MatchType.Equal,
                    FilterOp.Neq => MatchType.NotEqual,
                    FilterOp.Re => MatchType.Regex,
                    _ => MatchType.NotRegex,
                };
                return new StringLabelFilter(Matcher(name, type, value.Text!));
            case FilterValueKind.Ip:
                return new IpLabelFilter(name, op == FilterOp.Neq, value.Text!);
            case FilterValueKind.Duration:
                return new DurationLabelFilter(name, comparison, new GoDuration(value.Raw));
            case FilterValueKind.Bytes:
                return new BytesLabelFilter(name, comparison, unchecked((ulong)value.Raw));
            default:
                if (!GoFloat.TryParse(value.Text!, out var number, out var error))
                {
                    throw new LogQLParseException("unable to parse literal as a float: " + error);
                }

                return new NumericLabelFilter(name, comparison, value.Negative ? -number : number);
        }
    }

    // Loki's grammar gives "and" precedence over "or" (both left-associative), while "," and juxtaposition have no
    // precedence: yacc always shifts for them, so each takes the term before it and everything after it.
    public static LabelFilter FoldLabelFilters(LabelFilter first, IEnumerable<(Connector Connector, LabelFilter Filter)> rest)
    {
        var terms = new List<LabelFilter> { first };
        var connectors = new List<Connector>();
        foreach (var (connector, filter) in rest)
        {
            connectors.Add(connector);
            terms.Add(filter);
        }

        if (connectors.Count == 0)
        {
            return first;
        }

        // Split at "," and juxtaposition into segments of and/or terms. Each comma joins the last term of the
        // segment before it with everything after it, so fold the segments from the last one back: a loop, not a
        // recursion per comma (a query may hold thousands of them; the tree's depth is checked after parsing).
        var segmentStarts = new List<int> { 0 };
        for (var j = 0; j < connectors.Count; j++)
        {
            if (connectors[j] is Connector.Comma or Connector.Juxtaposition)
            {
                segmentStarts.Add(j + 1);
            }
        }

        LabelFilter? folded = null;
        for (var s = segmentStarts.Count - 1; s >= 0; s--)
        {
            var start = segmentStarts[s];
            var end = s + 1 < segmentStarts.Count ? segmentStarts[s + 1] - 1 : connectors.Count;
            folded = FoldSegment(terms, connectors, start, end, folded);
        }

        return folded!;
    }

    // Folds terms[start..end] joined by connectors[start..end-1] (all "and"/"or"); "tail", when present, is and-ed
    // onto the last term first.
    private static LabelFilter FoldSegment(List<LabelFilter> terms, List<Connector> connectors, int start, int end, LabelFilter? tail)
    {
        LabelFilter Term(int i) => i == end && tail is not null ? new BinaryLabelFilter(terms[i], tail, And: true) : terms[i];

        // "and" binds tighter than "or": group the "and" runs first, then join them with "or" left to right.
        LabelFilter? result = null;
        var current = Term(start);
        for (var i = start; i < end; i++)
        {
            if (connectors[i] == Connector.And)
            {
                current = new BinaryLabelFilter(current, Term(i + 1), And: true);
            }
            else
            {
                result = result is null ? current : new BinaryLabelFilter(result, current, And: false);
                current = Term(i + 1);
            }
        }

        return result is null ? current : new BinaryLabelFilter(result, current, And: false);
    }

    public static StageExpr Logfmt(Token keyword, IEnumerable<string> flags, EquatableArray<LabelExtraction> extractions)
    {
        _ = keyword;
        var strict = false;
        var keepEmpty = false;
        foreach (var flag in flags)
        {
            strict |= flag == "--strict";
            keepEmpty |= flag == "--keep-empty";
        }

        return new LogfmtParserExpr(strict, keepEmpty, extractions);
    }

    public static StageExpr RegexpStage(string regex)
    {
        ValidateOrThrow(regex, "invalid regexp parser: ");
        var names = GoRegex.NamedGroups(regex);
        if (names.Count == 0)
        {
            throw new LogQLParseException("invalid regexp parser: at least one named capture must be supplied");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!seen.Add(name))
            {
                throw new LogQLParseException("invalid regexp parser: duplicate extracted label name '" + name + "'");
            }
        }

        return new RegexpParserExpr(regex);
    }

    public static StageExpr PatternStage(string pattern)
    {
        var error = PatternSyntax.Validate(pattern);
        if (error is not null)
        {
            throw new LogQLParseException("invalid pattern parser: " + error);
        }

        return new PatternParserExpr(pattern);
    }

    public static NamedLabelMatcher NamedMatcher(string name, Maybe<(MatchType Op, string Value)> matcher) =>
        matcher.HasValue
            ? new NamedLabelMatcher(name, Matcher(name, matcher.Value.Op, matcher.Value.Value))
            : new NamedLabelMatcher(name, null);

    public static Expr LogExpr(MatchersExpr selector, IEnumerable<StageExpr> stages)
    {
        var list = ExpandStages(stages);
        return list.Count == 0 ? selector : new PipelineExpr(selector, new EquatableArray<StageExpr>([.. list]));
    }

    // Loki rewrites a negative "or" chain (!= "a" or "b") into consecutive negative filters.
    private static List<StageExpr> ExpandStages(IEnumerable<StageExpr> stages)
    {
        var list = new List<StageExpr>();
        foreach (var stage in stages)
        {
            if (stage is LineFilterExpr { IsNegative: true, Args.Count: > 1 } negative)
            {
                foreach (var arg in negative.Args)
                {
                    list.Add(new LineFilterExpr(negative.Op, new EquatableArray<LineFilterArg>([arg])));
                }
            }
            else
            {
                list.Add(stage);
            }
        }

        return list;
    }

    public static LogRangeExpr LogRange(MatchersExpr selector, List<PipelineItem> items, GoDuration range, GoDuration offset, UnwrapExpr? unwrap)
    {
        var stages = new List<StageExpr>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item.Unwrap is not null)
            {
                if (i + 1 < items.Count)
                {
                    throw new SyntaxErrorAtException(items[i + 1].Offset);
                }

                unwrap = item.Unwrap;
                continue;
            }

            stages.Add(item.Stage!);
        }

        var expanded = ExpandStages(stages);
        LogSelectorExpr left = expanded.Count == 0 ? selector : new PipelineExpr(selector, new EquatableArray<StageExpr>([.. expanded]));
        return new LogRangeExpr(left, range, offset, unwrap);
    }

    public static LogRangeExpr ParenthesisedLogRange(
        MatchersExpr selector,
        List<PipelineItem> items,
        GoDuration range,
        GoDuration offset,
        Maybe<(int Offset, UnwrapExpr Unwrap)> trailing)
    {
        if (!trailing.HasValue)
        {
            return LogRange(selector, items, range, offset, null);
        }

        // Only "(selector) [range] | unwrap x" may carry its unwrap after the range.
        if (items.Count > 0)
        {
            throw new SyntaxErrorAtException(trailing.Value.Offset);
        }

        return LogRange(selector, items, range, offset, trailing.Value.Unwrap);
    }

    public static LogRangeExpr LogRangeInParentheses(
        MatchersExpr selector,
        List<PipelineItem> before,
        GoDuration range,
        GoDuration offset,
        List<PipelineItem> after)
    {
        if (before.Count > 0 && after.Count > 0)
        {
            throw new SyntaxErrorAtException(after[0].Offset);
        }

        return LogRange(selector, before.Count > 0 ? before : after, range, offset, null);
    }

    public static SampleExpr RangeAggregation(Token function, Maybe<string> param, LogRangeExpr range, Maybe<Grouping> grouping)
    {
        var row = RangeFunction.Of((RangeOp)function.Value);
        var name = row.Name;
        double? value = null;
        if (param.HasValue)
        {
            if (!row.TakesParameter)
            {
                return new InvalidSampleExpr("parameter " + param.Value + " not supported for operation " + name);
            }

            if (!GoFloat.TryParse(param.Value, out var v, out var error))
            {
                return new InvalidSampleExpr("invalid parameter for operation " + name + ": " + error);
            }

            value = v;
        }
        else if (row.TakesParameter)
        {
            return new InvalidSampleExpr("parameter required for operation " + name);
        }

        var g = grouping.HasValue ? grouping.Value : null;
        if (g is not null && !row.AllowsGrouping)
        {
            return new InvalidSampleExpr("grouping not allowed for " + name + " aggregation");
        }

        if (range.Unwrap is not null)
        {
            if (row.Unwrap == UnwrapUse.Never)
            {
                return new InvalidSampleExpr("invalid aggregation " + name + " with unwrap");
            }
        }
        else if (row.Unwrap == UnwrapUse.Required)
        {
            return new InvalidSampleExpr("invalid aggregation " + name + " without unwrap");
        }

        return new RangeAggregationExpr(row.Op, range, g, value);
    }

    // A vector aggregation or label_replace needs a metric argument; a bare log query there is a syntax error at
    // the token that follows it.
    public static SampleExpr RequireMetric(Expr expr, int offset) =>
        expr as SampleExpr ?? throw new SyntaxErrorAtException(offset);

    public static SampleExpr VectorAggregation(Token function, Grouping? grouping, string? param, SampleExpr inner)
    {
        var row = VectorFunction.Of((VectorOp)function.Value);
        var name = row.Name;
        var k = 0;
        if (row.TakesParameter)
        {
            if (param is null)
            {
                return new InvalidSampleExpr("parameter required for operation " + name);
            }

            if (!int.TryParse(param, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out k))
            {
                return new InvalidSampleExpr("invalid parameter " + name + "(" + param + ",");
            }

            if (k <= 0)
            {
                return new InvalidSampleExpr("invalid parameter (must be greater than 0) " + name + "(" + param);
            }

            if (row.Grouping == GroupingUse.None && grouping is not null)
            {
                return new InvalidSampleExpr("grouping not allowed for " + name + " aggregation");
            }
        }
        else if (param is not null)
        {
            return new InvalidSampleExpr("unsupported parameter for operation " + name + "(" + param + ",");
        }

        grouping ??= new Grouping(false, EquatableArray<string>.Empty);
        if (row.Grouping == GroupingUse.EmptyOnly && !grouping.Labels.IsEmpty)
        {
            return new InvalidSampleExpr("sort and sort_desc doesn't allow grouping by ");
        }

        return new VectorAggregationExpr(row.Op, inner, grouping, k);
    }

    public static SampleExpr Literal(string text, bool negative)
    {
        if (!GoFloat.TryParse(text, out var value, out var error))
        {
            return new InvalidSampleExpr("unable to parse literal as a float: " + error);
        }

        return new LiteralExpr(negative ? -value : value);
    }

    public static SampleExpr Vector(string text) =>
        GoFloat.TryParse(text, out var value, out var error)
            ? new VectorExpr(value)
            : new InvalidSampleExpr("unable to parse vectorExpr as a float: " + error);

    public static SampleExpr LabelReplace(SampleExpr inner, string dst, string replacement, string src, string regex)
    {
        if (GoRegex.Validate("^(?:" + regex + ")$") is { } error)
        {
            return new InvalidSampleExpr("invalid regex in label_replace: " + error);
        }

        return new LabelReplaceExpr(inner, dst, replacement, src, regex);
    }

    public static BinaryOpModifier Modifier(
        Maybe<Token> returnBool,
        Maybe<(bool On, EquatableArray<string> Labels, Maybe<(VectorMatchCardinality Card, EquatableArray<string> Include)> Group)> matching)
    {
        if (!matching.HasValue)
        {
            return returnBool.HasValue ? BinaryOpModifier.None with { ReturnBool = true } : BinaryOpModifier.None;
        }

        var m = matching.Value;
        var group = m.Group.HasValue ? m.Group.Value : (Card: VectorMatchCardinality.OneToOne, Include: EquatableArray<string>.Empty);
        return new BinaryOpModifier(returnBool.HasValue, m.On, m.Labels, group.Card, group.Include);
    }

    public static Expr FoldBinary(Expr first, IEnumerable<BinaryTail> tails)
    {
        var list = tails as List<BinaryTail> ?? [.. tails];
        if (list.Count == 0)
        {
            return first;
        }

        var position = 0;
        return Climb(first, list, ref position, 1);
    }

    // Precedence climbing. Recursion only happens into a strictly higher precedence level, so it is at most as deep
    // as there are levels; a run of right-associative "^" is folded by a loop instead.
    private static Expr Climb(Expr lhs, List<BinaryTail> tails, ref int position, int minPrecedence)
    {
        while (position < tails.Count && Precedence(tails[position].Op) >= minPrecedence)
        {
            var tail = tails[position++];
            var precedence = Precedence(tail.Op);
            var rhs = tail.Right;
            if (tail.Op == BinaryOp.Pow)
            {
                rhs = FoldPowerRun(rhs, tails, ref position);
            }
            else
            {
                while (position < tails.Count && Precedence(tails[position].Op) > precedence)
                {
                    rhs = Climb(rhs, tails, ref position, Precedence(tails[position].Op));
                }
            }

            lhs = Binary(tail.Op, tail.Modifier, lhs, rhs);
        }

        return lhs;
    }

    // "a ^ b ^ c" is "a ^ (b ^ c)": collects the operands of consecutive "^" tails after "first" and folds them from
    // the right. Nothing binds tighter than "^", so the run ends at the first other operator.
    private static Expr FoldPowerRun(Expr first, List<BinaryTail> tails, ref int position)
    {
        var runStart = position;
        while (position < tails.Count && tails[position].Op == BinaryOp.Pow)
        {
            position++;
        }

        if (runStart == position)
        {
            return first;
        }

        var rhs = tails[position - 1].Right;
        for (var i = position - 1; i > runStart; i--)
        {
            rhs = Binary(BinaryOp.Pow, tails[i].Modifier, tails[i - 1].Right, rhs);
        }

        return Binary(BinaryOp.Pow, tails[runStart].Modifier, first, rhs);
    }

    private static int Precedence(BinaryOp op) => op switch
    {
        BinaryOp.Or => 1,
        BinaryOp.And or BinaryOp.Unless => 2,
        BinaryOp.Add or BinaryOp.Sub => 4,
        BinaryOp.Mul or BinaryOp.Div or BinaryOp.Mod => 5,
        BinaryOp.Pow => 6,
        _ => 3,
    };

    private static SampleExpr Binary(BinaryOp op, BinaryOpModifier modifier, Expr lhs, Expr rhs)
    {
        var text = BinaryOpExpr.OpText(op);
        if (lhs is not SampleExpr left)
        {
            return new InvalidSampleExpr("unexpected type for left leg of binary operation (" + text + "): " + GoTypeName(lhs));
        }

        if (rhs is not SampleExpr right)
        {
            return new InvalidSampleExpr("unexpected type for right leg of binary operation (" + text + "): " + GoTypeName(rhs));
        }

        var leftLiteral = left as LiteralExpr;
        var rightLiteral = right as LiteralExpr;
        if (BinaryOpExpr.IsSetOperator(op))
        {
            if (leftLiteral is not null)
            {
                return new InvalidSampleExpr("unexpected literal for left leg of logical/set binary operation (" + text + "): " +
                    GoFloat.FormatFixed6(leftLiteral.Value));
            }

            if (rightLiteral is not null)
            {
                return new InvalidSampleExpr("unexpected literal for right leg of logical/set binary operation (" + text + "): " +
                    GoFloat.FormatFixed6(rightLiteral.Value));
            }
        }

        if (leftLiteral is not null && rightLiteral is not null)
        {
            return new LiteralExpr(Fold(op, leftLiteral.Value, rightLiteral.Value));
        }

        return new BinaryOpExpr(op, left, right, modifier);
    }

    private static string GoTypeName(Expr e) => e is MatchersExpr ? "*syntax.MatchersExpr" : "*syntax.PipelineExpr";

    // Scalar folding as Loki's MergeBinOp does it: comparisons give 1 or 0, division and modulo by zero give NaN.
    private static double Fold(BinaryOp op, double l, double r) => op switch
    {
        BinaryOp.Add => l + r,
        BinaryOp.Sub => l - r,
        BinaryOp.Mul => l * r,
        BinaryOp.Div => r == 0 ? double.NaN : l / r,
        BinaryOp.Mod => r == 0 ? double.NaN : l % r,
        BinaryOp.Pow => Math.Pow(l, r),
        BinaryOp.Equal => l == r ? 1 : 0,
        BinaryOp.NotEqual => l != r ? 1 : 0,
        BinaryOp.GreaterThan => l > r ? 1 : 0,
        BinaryOp.GreaterThanOrEqual => l >= r ? 1 : 0,
        BinaryOp.LessThan => l < r ? 1 : 0,
        BinaryOp.LessThanOrEqual => l <= r ? 1 : 0,
        _ => double.NaN,
    };
}

/// <summary>A syntax error detected by a semantic action, reported as "unexpected X" at a token index.</summary>
internal sealed class SyntaxErrorAtException(int offset) : Exception("syntax error")
{
    public int Offset { get; } = offset;
}

/// <summary>A metric node that failed one of Loki's construction checks; validation reports its message.</summary>
internal sealed record InvalidSampleExpr(string Message) : SampleExpr
{
    public override void WriteTo(StringBuilder sb) => sb.Append(Message);
}

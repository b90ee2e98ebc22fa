using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using MatchType = LokiSharp.LogQL.Labels.MatchType;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>A compiled label filter: decides whether an entry passes from its current labels.</summary>
public abstract class LabelPredicate
{
    /// <summary>Whether the entry passes; typed filters may set <c>LabelFilterErr</c>.</summary>
    public abstract bool Test(LineLabels labels);

    /// <summary>Compiles a label filter expression; throws <see cref="Syntax.LogQLParseException"/> for bad patterns.</summary>
    public static LabelPredicate Compile(LabelFilter filter, string? stageText = null) => filter switch
    {
        BinaryLabelFilter b => new BinaryPredicate(Compile(b.Left, stageText ?? "| " + filter), Compile(b.Right, stageText ?? "| " + filter), b.And),
        StringLabelFilter s => StringPredicate.Create(s.Matcher, stageText ?? "| " + filter),
        NumericLabelFilter n => new NumericPredicate(n.Name, n.Op, n.Value),
        DurationLabelFilter d => new DurationPredicate(d.Name, d.Op, d.Value.Nanoseconds),
        BytesLabelFilter b => new BytesPredicate(b.Name, b.Op, b.Value),
        IpLabelFilter ip => new IpPredicate(ip.Name, ip.NotEqual, IpPattern.TryParse(ip.Pattern) ??
            throw PipelineBuildError.Create(stageText ?? "| " + filter, "ip: invalid pattern: " + GoString.Quote(ip.Pattern))),
        _ => throw PipelineBuildError.Create(stageText ?? "| " + filter, "unsupported label filter"),
    };

    internal static bool Compare<T>(ComparisonOp op, T value, T reference)
        where T : IComparable<T>
    {
        var c = value.CompareTo(reference);
        return op switch
        {
            ComparisonOp.Equal => c == 0,
            ComparisonOp.NotEqual => c != 0,
            ComparisonOp.GreaterThan => c > 0,
            ComparisonOp.GreaterThanOrEqual => c >= 0,
            ComparisonOp.LessThan => c < 0,
            ComparisonOp.LessThanOrEqual => c <= 0,
            _ => false,
        };
    }

    internal static void SetFilterError(LineLabels labels, string details)
    {
        if (!labels.HasError)
        {
            labels.SetError(PipelineLabels.LabelFilterError, details);
        }
    }
}

/// <summary>A label filter stage.</summary>
public sealed class LabelFilterStep(LabelPredicate predicate) : PipelineStage
{
    /// <summary>The compiled filter.</summary>
    public LabelPredicate Predicate { get; } = predicate;

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels) => Predicate.Test(labels);
}

internal sealed class BinaryPredicate(LabelPredicate left, LabelPredicate right, bool and) : LabelPredicate
{
    public override bool Test(LineLabels labels)
    {
        var l = left.Test(labels);
        if (!and && l)
        {
            return true;
        }

        var r = right.Test(labels);
        return and ? l && r : r;
    }
}

/// <summary>
/// String matchers on a label's value (<c>""</c> when absent). Literal-shaped regexes run as equality or
/// substring tests, reproducing Loki's simplification (so <c>=~"al.*"</c> also matches <c>prealpha</c>).
/// </summary>
internal sealed class StringPredicate : LabelPredicate
{
    private readonly string _name;
    private readonly LineMatcher? _matcher;
    private readonly LabelMatcher? _fallback;
    private readonly bool _negate;
    private byte[] _scratch = new byte[128];

    private StringPredicate(string name, LineMatcher? matcher, LabelMatcher? fallback, bool negate)
    {
        _name = name;
        _matcher = matcher;
        _fallback = fallback;
        _negate = negate;
    }

    public static LabelPredicate Create(LabelMatcher m, string stageText)
    {
        switch (m.Type)
        {
            case MatchType.Equal or MatchType.NotEqual:
                return new StringPredicate(m.Name, null, m, negate: false);
            default:
                var matcher = SimplifiedRegex(m.Value);
                if (matcher is null)
                {
                    var regex = Re2Regex.TryCompile(m.Value, anchored: true, out var error) ??
                        throw PipelineBuildError.Create(stageText, error ?? "invalid regex");
                    matcher = new RegexMatcher(regex);
                }

                return new StringPredicate(m.Name, matcher, null, m.Type == MatchType.NotRegex);
        }
    }

    private static LineMatcher? SimplifiedRegex(string regex)
    {
        var branches = RegexLiteralShape.TryAnalyse(regex, out var ignoreCase, out var anyPlus);
        if (anyPlus)
        {
            return new NonEmptyMatcher();
        }

        // Case-insensitive k and s also match U+212A and U+017F under RE2: such values take the regex.
        if (branches is null || (ignoreCase && branches.Exists(static b => !Ascii.IsValid(b.Literal) || b.Literal.AsSpan().IndexOfAny("kKsS") >= 0)))
        {
            return null;
        }

        // Go factors a common literal prefix out of adjacent alternatives; Loki then tests the resulting branches as
        // substrings rather than whole values. A prefix followed by single characters becomes a class: no literals.
        var factored = new bool[branches.Count];
        for (var i = 0; i + 1 < branches.Count; i++)
        {
            var a = branches[i];
            var b = branches[i + 1];
            if (!a.LeadingAny && !b.LeadingAny && a.Literal.Length > 0 && b.Literal.Length > 0 && a.Literal[0] == b.Literal[0])
            {
                var common = CommonPrefix(a.Literal, b.Literal);
                if (a.Literal.Length - common <= 1 && b.Literal.Length - common <= 1 && !a.TrailingAny && !b.TrailingAny)
                {
                    return null;
                }

                factored[i] = factored[i + 1] = true;
            }
        }

        var operands = new List<LineMatcher>(branches.Count);
        for (var i = 0; i < branches.Count; i++)
        {
            var branch = branches[i];
            if (branch.IsWildcardOnly)
            {
                return LineMatcher.True;
            }

            var bytes = Encoding.UTF8.GetBytes(branch.Literal);
            operands.Add(branch.LeadingAny || branch.TrailingAny || factored[i]
                ? (ignoreCase ? new ContainsIgnoreCaseMatcher(bytes) : new ContainsMatcher(bytes))
                : new EqualsMatcher(bytes, ignoreCase));
        }

        return operands.Count == 1 ? operands[0] : new AnyMatcher([.. operands]);
    }

    private static int CommonPrefix(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n])
        {
            n++;
        }

        return n;
    }

    public override bool Test(LineLabels labels)
    {
        var value = labels.GetForFilter(_name);
        if (_fallback is not null)
        {
            return _fallback.Matches(value);
        }

        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_scratch.Length < max)
        {
            _scratch = new byte[max];
        }

        var n = Encoding.UTF8.GetBytes(value, _scratch);
        return _matcher!.Matches(_scratch.AsSpan(0, n)) != _negate;
    }
}

internal sealed class NumericPredicate(string name, ComparisonOp op, double reference) : LabelPredicate
{
    // Parsers hand out the same string for a repeated value (status codes), so earlier parses are usually reusable:
    // a few slots by the value's first and last characters keep alternating values apart.
    private const int Slots = 16;
    private readonly string?[] _texts = new string?[Slots];
    private readonly double[] _values = new double[Slots];

    public override bool Test(LineLabels labels)
    {
        var text = labels.Get(name);
        if (text is null)
        {
            return false;
        }

        var slot = text.Length == 0 ? 0 : ((text[0] * 7) + text[^1]) & (Slots - 1);
        double value;
        if (ReferenceEquals(text, _texts[slot]))
        {
            value = _values[slot];
        }
        else
        {
            if (!GoFloat.TryParse(text, out value, out var error))
            {
                SetFilterError(labels, error ?? "invalid syntax");
                return true;
            }

            _texts[slot] = text;
            _values[slot] = value;
        }

        // IEEE comparisons (NaN fails everything but !=), as Go compares floats.
        return op switch
        {
            ComparisonOp.Equal => value == reference,
            ComparisonOp.NotEqual => value != reference,
            ComparisonOp.GreaterThan => value > reference,
            ComparisonOp.GreaterThanOrEqual => value >= reference,
            ComparisonOp.LessThan => value < reference,
            ComparisonOp.LessThanOrEqual => value <= reference,
            _ => false,
        };
    }
}

internal sealed class DurationPredicate(string name, ComparisonOp op, long referenceNs) : LabelPredicate
{
    public override bool Test(LineLabels labels)
    {
        var text = labels.Get(name);
        if (text is null)
        {
            return false;
        }

        if (GoDuration.TryParseGo(text, out var error) is not { } value)
        {
            SetFilterError(labels, error ?? "time: invalid duration");
            return true;
        }

        return Compare(op, value.Nanoseconds, referenceNs);
    }
}

internal sealed class BytesPredicate(string name, ComparisonOp op, ulong reference) : LabelPredicate
{
    public override bool Test(LineLabels labels)
    {
        var text = labels.Get(name);
        if (text is null)
        {
            return false;
        }

        if (!HumanBytes.TryParse(text, out var value, out var error))
        {
            SetFilterError(labels, error ?? "invalid size");
            return true;
        }

        return Compare(op, value, reference);
    }
}

internal sealed class IpPredicate(string name, bool notEqual, IpPattern pattern) : LabelPredicate
{
    private byte[] _scratch = new byte[64];

    public override bool Test(LineLabels labels)
    {
        // Only string matchers may drop lines that carry an error.
        if (labels.HasError)
        {
            return true;
        }

        var value = labels.Get(name);
        if (value is null)
        {
            return false;
        }

        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_scratch.Length < max)
        {
            _scratch = new byte[max];
        }

        var n = Encoding.UTF8.GetBytes(value, _scratch);
        return pattern.MatchesAnyIn(_scratch.AsSpan(0, n)) != notEqual;
    }
}

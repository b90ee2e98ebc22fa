using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;
using MatchType = LokiSharp.LogQL.Labels.MatchType;

namespace LokiSharp.LogQL.Pipeline;

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

using System.Text;
using System.Text.RegularExpressions;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// <c>label_replace(v, dst, replacement, src, regex)</c>: the regex is anchored on the value of <c>src</c>; on a match
/// <c>dst</c> becomes the expanded replacement (Go's <c>$1</c>, <c>${name}</c>, <c>$$</c>), deleted when it
/// expands to nothing; without a match the sample is unchanged.
/// </summary>
internal sealed class LabelReplaceEvaluator : StepEvaluator
{
    private const int CacheLimit = 65_536;

    // A replacement may repeat a group as often as the query has room for ($1$1$1...): beyond this many characters
    // (as templates allow, 1 Mi) the query fails instead of allocating the product.
    private const int MaxValueLength = 1 << 20;

    private readonly StepEvaluator _inner;
    private readonly LabelReplaceExpr _expr;
    private readonly Regex _regex;
    private readonly int[] _goGroupNumbers;
    private readonly Dictionary<string, int> _goGroupNames;
    private readonly Dictionary<LabelSet, LabelSet> _cache = [];
    private readonly List<VectorSample> _vector = [];

    public LabelReplaceEvaluator(LabelReplaceExpr expr, StepEvaluator inner)
    {
        _inner = inner;
        _expr = expr;
        _regex = Re2Regex.TryCompile(expr.Regex, anchored: true, out var error)
            ?? throw new MetricQueryException(MetricQueryErrorKind.BadRequest, "invalid regex in label_replace: " + error);
        (_goGroupNumbers, _goGroupNames) = MapGroups(expr.Regex, _regex);
    }

    public override bool Next(out long timestampMs, out List<VectorSample> vector)
    {
        vector = _vector;
        _vector.Clear();
        if (!_inner.Next(out timestampMs, out var input))
        {
            return false;
        }

        foreach (var sample in input)
        {
            _vector.Add(sample with { Labels = Replace(sample.Labels) });
        }

        return true;
    }

    public override void Dispose() => _inner.Dispose();

    private LabelSet Replace(LabelSet labels)
    {
        if (_cache.TryGetValue(labels, out var cached))
        {
            return cached;
        }

        if (_cache.Count >= CacheLimit)
        {
            _cache.Clear();
        }

        var result = labels;
        var source = labels.Get(_expr.Source) ?? string.Empty;
        var match = _regex.Match(source);
        if (match.Success)
        {
            var expanded = Expand(_expr.Replacement, match);
            var pairs = new List<LabelPair>(labels.Count + 1);
            foreach (var pair in labels.AsSpan())
            {
                if (pair.Name != _expr.Destination)
                {
                    pairs.Add(pair);
                }
            }

            if (expanded.Length > 0)
            {
                pairs.Add(new LabelPair(_expr.Destination, expanded));
            }

            result = LabelSet.From(pairs);
        }

        _cache.Add(labels, result);
        return result;
    }

    /// <summary>Go's <c>Regexp.ExpandString</c>.</summary>
    private string Expand(string template, Match match)
    {
        var sb = new StringBuilder(template.Length + 16);
        var i = 0;
        while (i < template.Length)
        {
            var dollar = template.IndexOf('$', i);
            if (dollar < 0)
            {
                break;
            }

            sb.Append(template, i, dollar - i);
            i = dollar + 1;
            if (i < template.Length && template[i] == '$')
            {
                sb.Append('$');
                i++;
                continue;
            }

            if (!TryExtractName(template, i, out var name, out var number, out var rest))
            {
                // Malformed: the '$' is literal text.
                sb.Append('$');
                continue;
            }

            i = rest;
            var group = number >= 0
                ? (number < _goGroupNumbers.Length ? _goGroupNumbers[number] : -1)
                : _goGroupNames.GetValueOrDefault(name, -1);
            if (group >= 0 && match.Groups[group].Success)
            {
                if (sb.Length + match.Groups[group].Length > MaxValueLength)
                {
                    throw new MetricQueryException(MetricQueryErrorKind.BadRequest,
                        "label_replace: the replacement for \"" + _expr.Destination + "\" expands to more than " +
                        MaxValueLength.ToString(System.Globalization.CultureInfo.InvariantCulture) + " characters");
                }

                sb.Append(match.Groups[group].ValueSpan);
            }
        }

        if (i < template.Length)
        {
            sb.Append(template, i, template.Length - i);
        }

        return sb.ToString();
    }

    /// <summary>Go's <c>extract</c>: a name of letters, digits and underscores, optionally in braces.</summary>
    private static bool TryExtractName(string s, int start, out string name, out int number, out int rest)
    {
        name = string.Empty;
        number = -1;
        rest = start;
        if (start >= s.Length)
        {
            return false;
        }

        var brace = s[start] == '{';
        var i = brace ? start + 1 : start;
        var nameStart = i;
        while (i < s.Length)
        {
            var rune = Rune.GetRuneAt(s, i);
            if (!Rune.IsLetter(rune) && !Rune.IsDigit(rune) && rune.Value != '_')
            {
                break;
            }

            i += rune.Utf16SequenceLength;
        }

        if (i == nameStart)
        {
            return false;
        }

        name = s[nameStart..i];
        if (brace)
        {
            if (i >= s.Length || s[i] != '}')
            {
                return false;
            }

            i++;
        }

        number = 0;
        foreach (var c in name)
        {
            if (c is < '0' or > '9' || number >= 100_000_000)
            {
                number = -1;
                break;
            }

            number = (number * 10) + (c - '0');
        }

        if (name[0] == '0' && name.Length > 1)
        {
            number = -1;
        }

        rest = i;
        return true;
    }

    /// <summary>
    /// Go numbers capture groups by the position of their opening parenthesis, named or not; .NET numbers unnamed
    /// groups before named ones. Maps each Go group number, and each name, to the .NET group.
    /// </summary>
    private static (int[] Numbers, Dictionary<string, int> Names) MapGroups(string pattern, Regex regex)
    {
        var numbers = new List<int> { 0 };
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var unnamed = 0;
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\')
            {
                i++;
                continue;
            }

            if (inClass)
            {
                inClass = c != ']';
                continue;
            }

            if (c == '[')
            {
                inClass = true;
                if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                {
                    i++;
                }

                continue;
            }

            if (c != '(')
            {
                continue;
            }

            if (i + 1 < pattern.Length && pattern[i + 1] == '?')
            {
                var nameStart = pattern.AsSpan(i).StartsWith("(?P<") ? i + 4 : pattern.AsSpan(i).StartsWith("(?<") ? i + 3 : -1;
                if (nameStart < 0)
                {
                    continue;
                }

                var close = pattern.IndexOf('>', nameStart);
                if (close < 0)
                {
                    continue;
                }

                var name = pattern[nameStart..close];
                var group = regex.GroupNumberFromName(name);
                numbers.Add(group);
                names.TryAdd(name, group);
                continue;
            }

            numbers.Add(++unnamed);
        }

        return ([.. numbers], names);
    }
}

using System.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>One alternative of a literal-shaped regex: a literal, optionally preceded/followed by <c>.*</c>.</summary>
internal readonly record struct LiteralBranch(string Literal, bool LeadingAny, bool TrailingAny)
{
    public bool IsWildcardOnly => Literal.Length == 0 && (LeadingAny || TrailingAny);
}

/// <summary>
/// Recognises regexes that are really literal searches – <c>error|timeout</c>, <c>(?i)warn</c>, <c>.*foo.*</c> –
/// so filters can run them as vectorised substring or equality tests instead of a regex engine. Anything more
/// complex is left to the regex.
/// </summary>
internal static class RegexLiteralShape
{
    /// <summary>The branches, or null when the regex is not an alternation of (wildcard-wrapped) literals.</summary>
    public static List<LiteralBranch>? TryAnalyse(string regex, out bool caseInsensitive, out bool anyPlus)
    {
        caseInsensitive = false;
        anyPlus = false;
        var s = regex.AsSpan();
        if (s.StartsWith("(?i)"))
        {
            caseInsensitive = true;
            s = s[4..];
        }

        s = StripWholeGroup(s);
        if (s.SequenceEqual(".+"))
        {
            anyPlus = true;
            return [];
        }

        var branches = new List<LiteralBranch>();
        var start = 0;
        for (var i = 0; i <= s.Length; i++)
        {
            if (i < s.Length && s[i] == '\\')
            {
                i++;
                continue;
            }

            if (i == s.Length || s[i] == '|')
            {
                var branch = ParseBranch(StripWholeGroup(s[start..i]));
                if (branch is null)
                {
                    return null;
                }

                branches.Add(branch.Value);
                start = i + 1;
            }
        }

        return branches;
    }

    private static ReadOnlySpan<char> StripWholeGroup(ReadOnlySpan<char> s)
    {
        while (s.Length >= 2 && s[0] == '(' && s[^1] == ')')
        {
            var inner = s.StartsWith("(?:") ? s[3..^1] : s[1..^1];
            if (inner.Length > 0 && inner[0] == '?')
            {
                return s;
            }

            // Only strip when the parentheses enclose everything (no ")(" split at depth 0).
            var depth = 0;
            for (var i = 0; i < inner.Length; i++)
            {
                if (inner[i] == '\\')
                {
                    i++;
                    continue;
                }

                if (inner[i] == '(')
                {
                    depth++;
                }
                else if (inner[i] == ')' && --depth < 0)
                {
                    return s;
                }
            }

            s = inner;
        }

        return s;
    }

    private static LiteralBranch? ParseBranch(ReadOnlySpan<char> s)
    {
        var leading = false;
        var trailing = false;
        if (s.StartsWith(".*"))
        {
            leading = true;
            s = s[2..];
        }

        if (s.Length >= 2 && s[^2] == '.' && s[^1] == '*' && (s.Length < 3 || s[^3] != '\\'))
        {
            trailing = true;
            s = s[..^2];
        }

        var literal = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '\\')
            {
                if (i + 1 >= s.Length || char.IsAsciiLetterOrDigit(s[i + 1]))
                {
                    return null;
                }

                literal.Append(s[++i]);
                continue;
            }

            if (c is '.' or '+' or '*' or '?' or '(' or ')' or '|' or '[' or ']' or '{' or '}' or '^' or '$')
            {
                return null;
            }

            literal.Append(c);
        }

        return new LiteralBranch(literal.ToString(), leading, trailing);
    }
}

namespace LokiSharp.LogQL.Syntax;

/// <summary>
/// Decides whether Loki would reduce a label-filter regex to literal tests (equality, substring, "exists",
/// "anything"), which changes how the filter is printed. It follows the shapes Loki's simplifier accepts after Go's
/// regex parser has factored alternations: literals, <c>.*</c>/<c>.+</c>, a literal wrapped in <c>.*</c>, and
/// alternations of those.
/// </summary>
public static class RegexLiterals
{
    /// <summary>True when the regex is one of the simple shapes Loki turns into literal filters.</summary>
    public static bool IsReducibleToLiterals(string regex)
    {
        var s = regex.AsSpan();
        if (s.StartsWith("(?i)"))
        {
            s = s[4..];
        }

        var branches = SplitTopLevel(s);
        if (branches is null)
        {
            return false;
        }

        if (branches.Count == 1)
        {
            return IsSimpleBranch(StripGroup(s));
        }

        // Go's parser merges alternatives of single characters into a character class, and factors a shared
        // leading ".*" out of the alternatives; neither shape is reducible.
        var singleChars = 0;
        var leadingStars = 0;
        foreach (var (start, length) in branches)
        {
            var branch = s.Slice(start, length);
            if (branch.Length == 1 || (branch.Length == 2 && branch[0] == '\\'))
            {
                singleChars++;
            }

            if (branch.StartsWith(".*"))
            {
                leadingStars++;
            }

            if (!IsSimpleBranch(StripGroup(branch)))
            {
                return false;
            }
        }

        if (singleChars > 1 || leadingStars > 1)
        {
            return false;
        }

        return !HaveSingleCharSuffixesAfterCommonPrefix(s, branches);
    }

    private static bool HaveSingleCharSuffixesAfterCommonPrefix(ReadOnlySpan<char> s, List<(int Start, int Length)> branches)
    {
        var first = s.Slice(branches[0].Start, branches[0].Length);
        var prefix = first.Length;
        foreach (var (start, length) in branches)
        {
            prefix = Math.Min(prefix, first.CommonPrefixLength(s.Slice(start, length)));
        }

        if (prefix == 0)
        {
            return false;
        }

        var singles = 0;
        foreach (var (_, length) in branches)
        {
            if (length - prefix == 1)
            {
                singles++;
            }
        }

        return singles > 1;
    }

    private static ReadOnlySpan<char> StripGroup(ReadOnlySpan<char> s)
    {
        while (s.Length >= 2 && s[0] == '(' && s[^1] == ')' && MatchingParen(s, 0) == s.Length - 1)
        {
            s = s.StartsWith("(?:") ? s[3..^1] : s.StartsWith("(?") ? s : s[1..^1];
            if (s.StartsWith("(?") && !s.StartsWith("(?:"))
            {
                break;
            }
        }

        return s;
    }

    private static int MatchingParen(ReadOnlySpan<char> s, int open)
    {
        var depth = 0;
        for (var i = open; i < s.Length; i++)
        {
            switch (s[i])
            {
                case '\\':
                    i++;
                    break;
                case '[':
                    i = SkipClass(s, i);
                    break;
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    if (depth == 0)
                    {
                        return i;
                    }

                    break;
            }
        }

        return -1;
    }

    /// <summary>
    /// The index of the <c>]</c> closing the character class that opens at <paramref name="i"/> (a <c>]</c> right after
    /// <c>[</c> or <c>[^</c> is a member; escapes hide the next character), or the pattern's length when unclosed.
    /// </summary>
    public static int SkipClass(ReadOnlySpan<char> s, int i)
    {
        i++;
        if (i < s.Length && s[i] == '^')
        {
            i++;
        }

        if (i < s.Length && s[i] == ']')
        {
            i++;
        }

        while (i < s.Length && s[i] != ']')
        {
            if (s[i] == '\\')
            {
                i++;
            }

            i++;
        }

        return i;
    }

    private static List<(int Start, int Length)>? SplitTopLevel(ReadOnlySpan<char> s)
    {
        var result = new List<(int, int)>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            switch (s[i])
            {
                case '\\':
                    i++;
                    break;
                case '[':
                    i = SkipClass(s, i);
                    break;
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case '|' when depth == 0:
                    result.Add((start, i - start));
                    start = i + 1;
                    break;
            }
        }

        if (depth != 0)
        {
            return null;
        }

        result.Add((start, s.Length - start));
        return result;
    }

    // A branch is simple when it is empty, ".*", ".+", a literal, or a literal with ".*" on either or both sides.
    private static bool IsSimpleBranch(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty || s is ".*" or ".+")
        {
            return true;
        }

        if (s.StartsWith(".*"))
        {
            s = s[2..];
        }

        if (s.EndsWith(".*") && !s.EndsWith("\\.*"))
        {
            s = s[..^2];
        }

        return !s.IsEmpty && IsLiteral(s);
    }

    private static bool IsLiteral(ReadOnlySpan<char> s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '\\')
            {
                if (i + 1 >= s.Length || char.IsAsciiLetterOrDigit(s[i + 1]))
                {
                    return false;
                }

                i++;
                continue;
            }

            if (c is '.' or '*' or '+' or '?' or '(' or ')' or '[' or ']' or '{' or '}' or '|' or '^' or '$')
            {
                return false;
            }
        }

        return true;
    }
}

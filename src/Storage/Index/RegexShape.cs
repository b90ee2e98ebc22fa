namespace LokiSharp.Storage.Index;

/// <summary>What a label regex's source reveals without running it.</summary>
internal enum RegexShapeKind
{
    /// <summary>Nothing usable; test every value (after the literal prefix, if any).</summary>
    General,

    /// <summary>An alternation of plain literals such as <c>api|web</c>.</summary>
    Literals,

    /// <summary><c>.*</c> or <c>.+</c>.</summary>
    Anything,

    /// <summary><c>.*literal.*</c>: a substring test.</summary>
    Contains,
}

/// <summary>Cheap analysis of an anchored label regex: literal sets, match-all forms and literal prefixes.</summary>
internal readonly record struct RegexShape(RegexShapeKind Kind, string[]? Literals, string? Prefix, bool AllowsEmpty)
{
    private const string Meta = @".[]{}()*+?|^$\";

    public static RegexShape Of(string pattern)
    {
        if (pattern is ".*")
        {
            return new RegexShape(RegexShapeKind.Anything, null, null, AllowsEmpty: true);
        }

        if (pattern is ".+")
        {
            return new RegexShape(RegexShapeKind.Anything, null, null, AllowsEmpty: false);
        }

        if (pattern.Length > 4 && pattern.StartsWith(".*", StringComparison.Ordinal) &&
            pattern.EndsWith(".*", StringComparison.Ordinal) && !HasMeta(pattern.AsSpan(2, pattern.Length - 4)))
        {
            return new RegexShape(RegexShapeKind.Contains, [pattern[2..^2]], null, false);
        }

        var hasMeta = false;
        var hasOtherMeta = false;
        foreach (var c in pattern)
        {
            if (Meta.Contains(c, StringComparison.Ordinal))
            {
                hasMeta = true;
                hasOtherMeta |= c != '|';
            }
        }

        if (!hasOtherMeta)
        {
            return new RegexShape(RegexShapeKind.Literals, hasMeta ? pattern.Split('|') : [pattern], null, false);
        }

        if (pattern.Contains('|', StringComparison.Ordinal))
        {
            // A top-level alternation could have branches with different prefixes.
            return new RegexShape(RegexShapeKind.General, null, null, false);
        }

        var end = 0;
        while (end < pattern.Length && !Meta.Contains(pattern[end], StringComparison.Ordinal))
        {
            end++;
        }

        // A quantifier after the prefix applies to its last character, which is then optional.
        if (end < pattern.Length && end > 0 && pattern[end] is '*' or '?' or '{')
        {
            end--;
        }

        return new RegexShape(RegexShapeKind.General, null, pattern[..end], false);
    }

    /// <summary>
    /// The longest run of plain characters every match must contain: at the top level (outside groups and
    /// classes) and not made optional by a following quantifier. Null when there is none, or the pattern has a
    /// top-level alternation or inline options (which could make the run case-insensitive).
    /// </summary>
    public static string? RequiredLiteral(string pattern)
    {
        if (pattern.Contains("(?", StringComparison.Ordinal))
        {
            return null;
        }

        string? best = null;
        var depth = 0;
        var runStart = -1;
        for (var i = 0; i <= pattern.Length; i++)
        {
            var c = i < pattern.Length ? pattern[i] : '\\';
            if (depth == 0 && !Meta.Contains(c, StringComparison.Ordinal))
            {
                var next = i + 1 < pattern.Length ? pattern[i + 1] : '\\';
                if (next is '*' or '?' or '{')
                {
                    // This character is optional; the run before it still is not.
                    Take(ref best, pattern, runStart, i);
                    runStart = -1;
                }
                else if (runStart < 0)
                {
                    runStart = i;
                }

                continue;
            }

            Take(ref best, pattern, runStart, i);
            runStart = -1;
            switch (c)
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case '\\':
                    i++;
                    break;
                case '|' when depth == 0:
                    return null;
                case '{':
                    // A counted quantifier's digits are not text.
                    while (i < pattern.Length && pattern[i] != '}')
                    {
                        i++;
                    }

                    break;
                case '[':
                    i = LokiSharp.LogQL.Syntax.RegexLiterals.SkipClass(pattern, i);
                    break;
            }
        }

        return best;
    }

    private static void Take(ref string? best, string pattern, int start, int end)
    {
        if (start >= 0 && end - start > (best?.Length ?? 0))
        {
            best = pattern[start..end];
        }
    }

    private static bool HasMeta(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (Meta.Contains(c, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

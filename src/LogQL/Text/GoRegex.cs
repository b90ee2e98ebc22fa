using System.Text;
using System.Text.RegularExpressions;

namespace LokiSharp.LogQL.Text;

/// <summary>
/// Bridges Go's RE2 regular expressions to .NET: rewrites RE2-only syntax (<c>(?P&lt;name&gt;</c>) and reports
/// compile errors with Go's <c>error parsing regexp: ...</c> texts.
/// </summary>
public static class GoRegex
{
    /// <summary>Rewrites RE2 syntax that .NET spells differently.</summary>
    public static string ToDotNet(string pattern) =>
        pattern.Contains("(?P<", StringComparison.Ordinal) ? pattern.Replace("(?P<", "(?<", StringComparison.Ordinal) : pattern;

    /// <summary>
    /// Checks <paramref name="pattern"/> against RE2's syntax; returns Go's error text, or null when Go would compile
    /// it. Constructs .NET accepts but RE2 refuses (backreferences, lookarounds, atomic groups, comments, .NET-only
    /// escapes and flags) are errors here too, as they are in Loki; the rest of the syntax is checked by .NET's
    /// parser, whose errors are translated to Go's words.
    /// </summary>
    public static string? Validate(string pattern)
    {
        if (FindUnsupportedSyntax(pattern) is { } unsupported)
        {
            return unsupported;
        }

        // Only parsed, never run. The form the linear-time engine will get is what must parse (RE2's \pL, \Q...\E
        // and POSIX classes are rewritten there); an error is described from the pattern as written, as Go quotes it.
        if (TryParse(Re2Regex.ToDotNet(pattern)) is null)
        {
            return null;
        }

        var error = TryParse(ToDotNet(pattern));
        return error is null ? "error parsing regexp: invalid or unsupported Perl syntax: `" + pattern + "`" : Describe(pattern, error);
    }

    private static RegexParseException? TryParse(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant);
            return null;
        }
        catch (RegexParseException e)
        {
            return e;
        }
    }

    /// <summary>The names of the named capture groups, in order of appearance (duplicates kept).</summary>
    public static List<string> NamedGroups(string pattern)
    {
        var names = new List<string>();
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '\\')
            {
                i++;
                continue;
            }

            if (pattern[i] != '(' || i + 2 >= pattern.Length || pattern[i + 1] != '?')
            {
                continue;
            }

            var start = pattern[i + 2] == 'P' && i + 3 < pattern.Length && pattern[i + 3] == '<' ? i + 4
                : pattern[i + 2] == '<' && i + 3 < pattern.Length && pattern[i + 3] is not ('=' or '!') ? i + 3
                : -1;
            if (start < 0)
            {
                continue;
            }

            var end = pattern.IndexOf('>', start);
            if (end > start)
            {
                names.Add(pattern[start..end]);
            }
        }

        return names;
    }

    // RE2 syntax that .NET parses: scans the pattern as Go's parser does and reports the first construct Go refuses,
    // with Go's error code and the text it quotes. Anything else is left to .NET's parser.
    private static string? FindUnsupportedSyntax(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '\\':
                    if (i + 1 >= pattern.Length)
                    {
                        return null;
                    }

                    if (pattern[i + 1] == 'Q')
                    {
                        // \Q...\E is literal text up to \E or the end.
                        var end = pattern.IndexOf("\\E", i + 2, StringComparison.Ordinal);
                        i = end < 0 ? pattern.Length : end + 1;
                        continue;
                    }

                    if (!IsValidEscape(pattern, i + 1, inClass: false))
                    {
                        return Error("invalid escape sequence", pattern.Substring(i, 2));
                    }

                    i++;
                    break;
                case '[':
                    var classError = ScanClass(pattern, ref i);
                    if (classError is not null)
                    {
                        return classError;
                    }

                    break;
                case '(' when i + 1 < pattern.Length && pattern[i + 1] == '?':
                    var groupError = CheckGroupPrefix(pattern, i);
                    if (groupError is not null)
                    {
                        return groupError;
                    }

                    break;
            }
        }

        return null;
    }

    // Go's escapes: ASCII punctuation stands for itself; letters and digits only in the forms below. A digit 1-7 not
    // followed by an octal digit, and 8 or 9, would be a backreference, which RE2 does not have.
    private static bool IsValidEscape(string pattern, int at, bool inClass)
    {
        var c = pattern[at];
        if (c < 0x80 && !char.IsAsciiLetterOrDigit(c))
        {
            return true;
        }

        return c switch
        {
            '0' => true,
            >= '1' and <= '7' => at + 1 < pattern.Length && pattern[at + 1] is >= '0' and <= '7',
            'x' or 'a' or 'f' or 'n' or 'r' or 't' or 'v' => true,
            'p' or 'P' or 'd' or 'D' or 's' or 'S' or 'w' or 'W' => true,
            'A' or 'b' or 'B' or 'z' => !inClass,
            _ => false,
        };
    }

    // Moves i to the closing "]" of the class opening at i, checking its escapes; null when fine (or unterminated,
    // which .NET reports).
    private static string? ScanClass(string pattern, ref int i)
    {
        var j = i + 1;
        if (j < pattern.Length && pattern[j] == '^')
        {
            j++;
        }

        var first = true;
        while (j < pattern.Length && (pattern[j] != ']' || first))
        {
            first = false;
            if (pattern[j] == '[' && j + 1 < pattern.Length && pattern[j + 1] == ':')
            {
                var close = pattern.IndexOf(":]", j + 2, StringComparison.Ordinal);
                if (close > 0)
                {
                    j = close + 2;
                    continue;
                }
            }

            if (pattern[j] == '\\' && j + 1 < pattern.Length)
            {
                if (!IsValidEscape(pattern, j + 1, inClass: true))
                {
                    return Error("invalid escape sequence", pattern.Substring(j, 2));
                }

                j++;
            }

            j++;
        }

        i = j;
        return null;
    }

    // "(?" starts flags, a non-capturing group or a named capture in RE2; lookarounds, atomic groups, comments,
    // conditionals and .NET's extra flags are refused as Go's parser refuses them.
    private static string? CheckGroupPrefix(string pattern, int start)
    {
        var named = start + 3 < pattern.Length && pattern[start + 2] == 'P' && pattern[start + 3] == '<' ? start + 4
            : start + 2 < pattern.Length && pattern[start + 2] == '<' ? start + 3
            : -1;
        if (named >= 0)
        {
            var end = pattern.IndexOf('>', start);
            if (end < 0)
            {
                return Error("invalid named capture", pattern[start..]);
            }

            if (end == named || pattern.AsSpan(named, end - named).ContainsAnyExcept(NameChars))
            {
                return Error("invalid named capture", pattern[start..(end + 1)]);
            }

            return null;
        }

        var negated = false;
        var sawFlag = false;
        for (var i = start + 2; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case 'i' or 'm' or 's' or 'U':
                    sawFlag = true;
                    continue;
                case '-' when !negated:
                    negated = true;
                    sawFlag = false;
                    continue;
                case ':' or ')' when !negated || sawFlag:
                    return null;
            }

            var next = char.IsHighSurrogate(pattern[i]) && i + 1 < pattern.Length ? i + 2 : i + 1;
            return Error("invalid or unsupported Perl syntax", pattern[start..next]);
        }

        return Error("invalid or unsupported Perl syntax", pattern[start..]);
    }

    private static readonly System.Buffers.SearchValues<char> NameChars =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");

    private static string Error(string code, string expr) => "error parsing regexp: " + code + ": `" + expr + "`";

    private static string Describe(string pattern, RegexParseException e)
    {
        var code = e.Error switch
        {
            RegexParseError.InsufficientClosingParentheses => "missing closing )",
            RegexParseError.InsufficientOpeningParentheses => "unexpected )",
            RegexParseError.UnterminatedBracket => "missing closing ]",
            RegexParseError.QuantifierAfterNothing => "missing argument to repetition operator",
            RegexParseError.NestedQuantifiersNotParenthesized => "invalid nested repetition operator",
            RegexParseError.UnescapedEndingBackslash => "trailing backslash at end of expression",
            RegexParseError.ReversedCharacterRange => "invalid character class range",
            RegexParseError.ReversedQuantifierRange => "invalid repeat count",
            RegexParseError.InvalidGroupingConstruct => "invalid or unsupported Perl syntax",
            _ => "invalid escape sequence",
        };
        var expr = e.Error switch
        {
            RegexParseError.InsufficientClosingParentheses or RegexParseError.InsufficientOpeningParentheses => pattern,
            RegexParseError.UnescapedEndingBackslash => string.Empty,
            _ => Snippet(pattern, e.Offset),
        };
        var sb = new StringBuilder("error parsing regexp: ").Append(code).Append(": `").Append(expr).Append('`');
        return sb.ToString();
    }

    private static string Snippet(string pattern, int offset)
    {
        var end = Math.Clamp(offset, 0, pattern.Length);
        var start = Math.Max(0, end - 2);
        return pattern[start..end];
    }
}

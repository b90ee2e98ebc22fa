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

    /// <summary>Compiles <paramref name="pattern"/>; on failure returns null and Go's error text.</summary>
    public static Regex? TryCompile(string pattern, RegexOptions options, out string? error)
    {
        error = null;
        try
        {
            return new Regex(ToDotNet(pattern), options | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (RegexParseException e)
        {
            error = Describe(pattern, e);
            return null;
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

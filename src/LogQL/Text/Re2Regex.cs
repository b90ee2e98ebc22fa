using System.Text;
using System.Text.RegularExpressions;

namespace LokiSharp.LogQL.Text;

/// <summary>
/// Compiles Go RE2 patterns for .NET's linear-time engine (<see cref="RegexOptions.NonBacktracking"/>), rewriting
/// the constructs whose meaning differs: ASCII-only <c>\d \w \s</c>, <c>$</c> as end of text outside multi-line
/// mode, <c>\pL</c> one-letter classes, <c>\Q...\E</c> quoting and <c>(?P&lt;name&gt;</c> groups.
/// </summary>
public static class Re2Regex
{
    /// <summary>Rewrites an RE2 pattern into an equivalent .NET pattern.</summary>
    public static string ToDotNet(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 8);
        var inClass = false;
        var multiLine = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var n = pattern[i + 1];
                i++;
                switch (n)
                {
                    case 'd':
                        sb.Append(inClass ? "0-9" : "[0-9]");
                        continue;
                    case 'w':
                        sb.Append(inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]");
                        continue;
                    case 's':
                        sb.Append(inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]");
                        continue;
                    case 'D' when !inClass:
                        sb.Append("[^0-9]");
                        continue;
                    case 'W' when !inClass:
                        sb.Append("[^0-9A-Za-z_]");
                        continue;
                    case 'S' when !inClass:
                        sb.Append("[^\\t\\n\\f\\r ]");
                        continue;
                    case 'p' or 'P' when i + 1 < pattern.Length && pattern[i + 1] != '{':
                        sb.Append('\\').Append(n).Append('{').Append(pattern[i + 1]).Append('}');
                        i++;
                        continue;
                    case 'Q':
                        var end = pattern.IndexOf("\\E", i + 1, StringComparison.Ordinal);
                        var quoted = end < 0 ? pattern[(i + 1)..] : pattern[(i + 1)..end];
                        sb.Append(Regex.Escape(quoted));
                        i = end < 0 ? pattern.Length : end + 1;
                        continue;
                    default:
                        sb.Append('\\').Append(n);
                        continue;
                }
            }

            if (inClass)
            {
                if (c == ']' && !(sb.Length > 0 && (sb[^1] == '[' || (sb.Length > 1 && sb[^1] == '^' && sb[^2] == '['))))
                {
                    inClass = false;
                }
                else if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                {
                    // POSIX classes such as [:alpha:] only exist inside a bracket expression in RE2.
                    var close = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (close > 0 && PosixClass(pattern[(i + 2)..close]) is { } expansion)
                    {
                        sb.Append(expansion);
                        i = close + 1;
                        continue;
                    }
                }

                sb.Append(c);
                continue;
            }

            switch (c)
            {
                case '[':
                    inClass = true;
                    sb.Append(c);
                    break;
                case '(' when i + 2 < pattern.Length && pattern[i + 1] == '?' && pattern[i + 2] == 'P' && i + 3 < pattern.Length && pattern[i + 3] == '<':
                    sb.Append("(?<");
                    i += 3;
                    break;
                case '(' when i + 1 < pattern.Length && pattern[i + 1] == '?':
                    var flagsEnd = i + 2;
                    while (flagsEnd < pattern.Length && (char.IsAsciiLetter(pattern[flagsEnd]) || pattern[flagsEnd] == '-'))
                    {
                        flagsEnd++;
                    }

                    if (pattern.AsSpan(i + 2, flagsEnd - i - 2).Contains('m'))
                    {
                        multiLine = true;
                    }

                    sb.Append(c);
                    break;
                case '$':
                    sb.Append(multiLine ? "$" : "\\z");
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// Compiles an RE2 pattern on the linear-time engine; returns null and Go's error text when it does not compile.
    /// </summary>
    public static Regex? TryCompile(string pattern, bool anchored, out string? error)
    {
        // Syntax errors are reported in Go's words (RE2's own refusals included) before the linear-time engine sees it.
        error = GoRegex.Validate(pattern);
        return error is null ? TryCompileValidated(pattern, anchored, out error) : null;
    }

    /// <summary>
    /// Compiles a pattern <see cref="GoRegex.Validate"/> accepted on the linear-time engine; returns null and an
    /// error text in the rare case the engine still refuses it (for instance a pattern too large for it).
    /// </summary>
    public static Regex? TryCompileValidated(string pattern, bool anchored, out string? error)
    {
        error = null;
        var translated = ToDotNet(pattern);
        if (anchored)
        {
            translated = "^(?:" + translated + ")\\z";
        }

        try
        {
            return new Regex(translated, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (NotSupportedException)
        {
            error = "error parsing regexp: invalid or unsupported Perl syntax: `" + pattern + "`";
            return null;
        }
        catch (ArgumentException e)
        {
            error = "error parsing regexp: " + e.Message;
            return null;
        }
    }

    private static string? PosixClass(string name) => name switch
    {
        "alnum" => "0-9A-Za-z",
        "alpha" => "A-Za-z",
        "ascii" => "\\x00-\\x7F",
        "blank" => "\\t ",
        "cntrl" => "\\x00-\\x1F\\x7F",
        "digit" => "0-9",
        "graph" => "!-~",
        "lower" => "a-z",
        "print" => " -~",
        "punct" => "!-/:-@\\[-`{-~",
        "space" => "\\t\\n\\v\\f\\r ",
        "upper" => "A-Z",
        "word" => "0-9A-Za-z_",
        "xdigit" => "0-9A-Fa-f",
        _ => null,
    };
}

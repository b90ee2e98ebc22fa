using System.Globalization;
using System.Text;

namespace LokiSharp.LogQL.Text;

/// <summary>Go's <c>strconv.Quote</c>, which Loki uses to print label values and strings.</summary>
public static class GoString
{
    /// <summary>Returns <paramref name="value"/> as a double-quoted Go string literal.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        AppendQuoted(sb, value);
        return sb.ToString();
    }

    /// <summary>Appends <paramref name="value"/> as a double-quoted Go string literal.</summary>
    public static void AppendQuoted(StringBuilder sb, string value)
    {
        sb.Append('"');
        if (!NeedsEscaping(value))
        {
            sb.Append(value);
            sb.Append('"');
            return;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\a': sb.Append("\\a"); continue;
                case '\b': sb.Append("\\b"); continue;
                case '\f': sb.Append("\\f"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
                case '\v': sb.Append("\\v"); continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                sb.Append(c).Append(value[i + 1]);
                i++;
                continue;
            }

            if (char.IsSurrogate(c))
            {
                // A lone surrogate is not valid UTF-8; Go prints the replacement character.
                sb.Append("\\ufffd");
                continue;
            }

            if (c < 0x20 || c == 0x7f)
            {
                sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else if (!IsPrintable(c))
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        sb.Append('"');
    }

    private static bool NeedsEscaping(string value)
    {
        foreach (var c in value)
        {
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsPrintable(char c)
    {
        var category = CharUnicodeInfo.GetUnicodeCategory(c);
        return category is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.PrivateUse
            or UnicodeCategory.SpaceSeparator) || c == ' ';
    }
    /// <summary>
    /// Go's <c>strconv.Unquote</c> (as Prometheus' <c>strutil.Unquote</c>, which also accepts single quotes as a
    /// string delimiter): <c>"..."</c> with Go escapes, <c>`...`</c> raw. Byte escapes (<c>\xhh</c>, octal) are
    /// assembled as UTF-8 and decoded; invalid sequences become U+FFFD.
    /// </summary>
    /// <returns>False for malformed input (Go's "invalid syntax").</returns>
    public static bool TryUnquote(ReadOnlySpan<char> quoted, out string value)
    {
        value = string.Empty;
        if (quoted.Length < 2)
        {
            return false;
        }

        var quote = quoted[0];
        if (quote != quoted[^1] || quote is not ('"' or '\'' or '`'))
        {
            return false;
        }

        var body = quoted[1..^1];
        if (quote == '`')
        {
            if (body.Contains('`'))
            {
                return false;
            }

            // Go discards carriage returns inside raw strings.
            value = body.Contains('\r') ? body.ToString().Replace("\r", string.Empty, StringComparison.Ordinal) : body.ToString();
            return true;
        }

        if (body.IndexOfAny('\\', quote, '\n') < 0)
        {
            value = body.ToString();
            return true;
        }

        var bytes = new List<byte>(body.Length + 8);
        Span<byte> utf8 = stackalloc byte[4];
        var i = 0;
        while (i < body.Length)
        {
            var c = body[i];
            if (c == quote || c == '\n')
            {
                return false;
            }

            if (c != '\\')
            {
                if (char.IsHighSurrogate(c) && i + 1 < body.Length && char.IsLowSurrogate(body[i + 1]))
                {
                    AppendRune(bytes, new Rune(c, body[i + 1]), utf8);
                    i += 2;
                    continue;
                }

                AppendRune(bytes, char.IsSurrogate(c) ? Rune.ReplacementChar : new Rune(c), utf8);
                i++;
                continue;
            }

            i++;
            if (i >= body.Length)
            {
                return false;
            }

            var e = body[i++];
            switch (e)
            {
                case 'a': bytes.Add(7); break;
                case 'b': bytes.Add(8); break;
                case 'f': bytes.Add(12); break;
                case 'n': bytes.Add(10); break;
                case 'r': bytes.Add(13); break;
                case 't': bytes.Add(9); break;
                case 'v': bytes.Add(11); break;
                case '\\': bytes.Add((byte)'\\'); break;
                case '\'' or '"':
                    if (e != quote)
                    {
                        return false;
                    }

                    bytes.Add((byte)e);
                    break;
                case 'x' or 'u' or 'U':
                    {
                        var n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                        if (i + n > body.Length)
                        {
                            return false;
                        }

                        var v = 0;
                        for (var k = 0; k < n; k++)
                        {
                            var h = HexDigit(body[i + k]);
                            if (h < 0)
                            {
                                return false;
                            }

                            v = (v << 4) | h;
                        }

                        i += n;
                        if (e == 'x')
                        {
                            bytes.Add((byte)v);
                            break;
                        }

                        if (!Rune.IsValid(v))
                        {
                            return false;
                        }

                        AppendRune(bytes, new Rune(v), utf8);
                        break;
                    }

                case >= '0' and <= '7':
                    {
                        if (i + 2 > body.Length)
                        {
                            return false;
                        }

                        var v = e - '0';
                        for (var k = 0; k < 2; k++)
                        {
                            var o = body[i + k] - '0';
                            if (o is < 0 or > 7)
                            {
                                return false;
                            }

                            v = (v << 3) | o;
                        }

                        if (v > 255)
                        {
                            return false;
                        }

                        i += 2;
                        bytes.Add((byte)v);
                        break;
                    }

                default:
                    return false;
            }
        }

        value = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
        return true;
    }

    private static void AppendRune(List<byte> bytes, Rune rune, Span<byte> buffer)
    {
        var n = rune.EncodeToUtf8(buffer);
        for (var k = 0; k < n; k++)
        {
            bytes.Add(buffer[k]);
        }
    }

    private static int HexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}

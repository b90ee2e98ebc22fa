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
}

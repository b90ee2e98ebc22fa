using System.Globalization;
using System.Text;

namespace LokiSharp.LogQL.Text;

/// <summary>Go's float parsing and printing rules (<c>strconv.ParseFloat</c>, <c>%v</c>, <c>'f', -1</c>, <c>%f</c>).</summary>
public static class GoFloat
{
    /// <summary>
    /// <c>strconv.ParseFloat(s, 64)</c> for the literals LogQL's scanner produces: decimal floats, and hexadecimal
    /// floats with a <c>p</c> exponent. The error text is Go's.
    /// </summary>
    public static bool TryParse(string s, out double value, out string? error)
    {
        error = null;
        value = 0;
        var span = s.AsSpan();
        var negative = false;
        if (!span.IsEmpty && (span[0] == '+' || span[0] == '-'))
        {
            negative = span[0] == '-';
            span = span[1..];
        }

        if (span.Equals("inf", StringComparison.OrdinalIgnoreCase) || span.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        if (span.Equals("nan", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NaN;
            return true;
        }

        if (span.Length > 2 && span[0] == '0' && (span[1] == 'x' || span[1] == 'X'))
        {
            if (TryParseHex(span[2..], out value))
            {
                value = negative ? -value : value;
                return true;
            }

            error = SyntaxError(s);
            return false;
        }

        if (!IsDecimalFloat(span))
        {
            error = SyntaxError(s);
            return false;
        }

        value = double.Parse(span, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsInfinity(value))
        {
            error = "strconv.ParseFloat: parsing " + GoString.Quote(s) + ": value out of range";
            return false;
        }

        value = negative ? -value : value;
        return true;
    }

    private static string SyntaxError(string s) => "strconv.ParseFloat: parsing " + GoString.Quote(s) + ": invalid syntax";

    private static bool IsDecimalFloat(ReadOnlySpan<char> s)
    {
        var i = 0;
        var digits = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
            digits++;
        }

        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
                digits++;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            i++;
            if (i < s.Length && (s[i] == '+' || s[i] == '-'))
            {
                i++;
            }

            var expDigits = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
                expDigits++;
            }

            if (expDigits == 0)
            {
                return false;
            }
        }

        return i == s.Length;
    }

    private static bool TryParseHex(ReadOnlySpan<char> s, out double value)
    {
        value = 0;
        double mantissa = 0;
        var exp = 0;
        var i = 0;
        var digits = 0;
        var seenDot = false;
        while (i < s.Length)
        {
            var c = s[i];
            if (c == '.' && !seenDot)
            {
                seenDot = true;
                i++;
                continue;
            }

            var d = HexValue(c);
            if (d < 0)
            {
                break;
            }

            mantissa = (mantissa * 16) + d;
            if (seenDot)
            {
                exp -= 4;
            }

            digits++;
            i++;
        }

        // Go requires the 'p' exponent for hexadecimal floats.
        if (digits == 0 || i >= s.Length || (s[i] != 'p' && s[i] != 'P'))
        {
            return false;
        }

        i++;
        var sign = 1;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            sign = s[i] == '-' ? -1 : 1;
            i++;
        }

        var start = i;
        var e = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            e = Math.Min((e * 10) + (s[i] - '0'), 100000);
            i++;
        }

        if (i == start || i != s.Length)
        {
            return false;
        }

        value = mantissa * Math.Pow(2, exp + (sign * e));
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Go's <c>fmt.Sprint(float64)</c>: shortest digits, exponent form below 1e-4 and from 1e6 (<c>1e+06</c>).</summary>
    public static string FormatV(double value)
    {
        if (TryFormatSpecial(value, out var special))
        {
            return special;
        }

        var (negative, digits, pointPos) = ShortestDigits(value);
        var exp = pointPos - 1;
        var sb = new StringBuilder(24);
        if (negative)
        {
            sb.Append('-');
        }

        if (exp < -4 || exp >= 6)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
            {
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            }

            sb.Append('e').Append(exp < 0 ? '-' : '+');
            var absExp = Math.Abs(exp);
            if (absExp < 10)
            {
                sb.Append('0');
            }

            sb.Append(absExp.ToString(CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        AppendPositional(sb, digits, pointPos);
        return sb.ToString();
    }

    /// <summary>Go's <c>strconv.FormatFloat(v, 'f', -1, 64)</c>: shortest digits, never an exponent.</summary>
    public static string FormatShortestFixed(double value)
    {
        if (TryFormatSpecial(value, out var special))
        {
            return special;
        }

        var (negative, digits, pointPos) = ShortestDigits(value);
        var sb = new StringBuilder(24);
        if (negative)
        {
            sb.Append('-');
        }

        AppendPositional(sb, digits, pointPos);
        return sb.ToString();
    }

    /// <summary>Go's <c>%f</c>: six decimals.</summary>
    public static string FormatFixed6(double value) =>
        TryFormatSpecial(value, out var special) ? special : value.ToString("F6", CultureInfo.InvariantCulture);

    private static bool TryFormatSpecial(double value, out string text)
    {
        if (double.IsNaN(value))
        {
            text = "NaN";
            return true;
        }

        if (double.IsPositiveInfinity(value))
        {
            text = "+Inf";
            return true;
        }

        if (double.IsNegativeInfinity(value))
        {
            text = "-Inf";
            return true;
        }

        text = string.Empty;
        return false;
    }

    private static void AppendPositional(StringBuilder sb, string digits, int pointPos)
    {
        if (pointPos <= 0)
        {
            sb.Append("0.").Append('0', -pointPos).Append(digits);
        }
        else if (pointPos >= digits.Length)
        {
            sb.Append(digits).Append('0', pointPos - digits.Length);
        }
        else
        {
            sb.Append(digits, 0, pointPos).Append('.').Append(digits, pointPos, digits.Length - pointPos);
        }
    }

    // Decomposes the shortest round-trip representation into its significant digits and the position of the
    // decimal point relative to them (value = 0.digits * 10^pointPos).
    private static (bool Negative, string Digits, int PointPos) ShortestDigits(double value)
    {
        var negative = value < 0 || (value == 0 && double.IsNegative(value));
        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var ePos = shortest.IndexOf('E', StringComparison.Ordinal);
        var mantissa = ePos >= 0 ? shortest[..ePos] : shortest;
        var exp10 = ePos >= 0 ? int.Parse(shortest.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fracPart = dot >= 0 ? mantissa[(dot + 1)..] : string.Empty;
        var all = intPart + fracPart;
        var pointPos = intPart.Length + exp10;
        var lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0')
        {
            lead++;
        }

        all = all[lead..];
        pointPos -= lead;
        all = all.TrimEnd('0');
        if (all.Length == 0)
        {
            return (negative, "0", 1);
        }

        return (negative, all, pointPos);
    }
}

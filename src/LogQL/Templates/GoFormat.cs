using System.Globalization;
using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Templates;

/// <summary>Go's <c>fmt.Sprint</c>, <c>Sprintln</c> and <c>Sprintf</c> over template values.</summary>
public static class GoFormat
{
    // fmt's tooLarge: widths and precisions of a larger magnitude are refused.
    private const int MaxWidth = 1_000_000;

    public static string Sprint(object?[] args, int limit)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < args.Length; i++)
        {
            // Sprint adds a space between operands when neither is a string.
            if (i > 0 && args[i] is not string && args[i - 1] is not string)
            {
                sb.Append(' ');
            }

            Append(sb, PrintOperand(args[i]), limit);
        }

        return sb.ToString();
    }

    public static string Sprintln(object?[] args, int limit)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < args.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }

            Append(sb, PrintOperand(args[i]), limit);
        }

        return sb.Append('\n').ToString();
    }

    // Appends within the limit: the operands are bounded each, but a call may list any number of them.
    private static void Append(StringBuilder sb, string text, int limit)
    {
        TemplateLimits.Ensure((long)sb.Length + text.Length, limit);
        sb.Append(text);
    }

    private static string PrintOperand(object? value) => value is null ? "<nil>" : TemplateValues.Print(value);

    /// <summary>
    /// Go's <c>fmt.Sprintf</c>: flags, widths and precisions (literal or <c>*</c>) with fmt's limits and its
    /// <c>%!(BADWIDTH)</c>, <c>%!(BADPREC)</c>, <c>%!(NOVERB)</c>, <c>%!v(MISSING)</c> and <c>%!(EXTRA ...)</c> marks;
    /// the result must fit in <paramref name="limit"/> characters.
    /// </summary>
    public static string Sprintf(string format, object?[] args, int limit)
    {
        var sb = new StringBuilder(format.Length + 16);
        var argIndex = 0;
        var end = format.Length;
        var i = 0;
        while (i < end)
        {
            var literalEnd = format.IndexOf('%', i);
            if (literalEnd < 0)
            {
                literalEnd = end;
            }

            if (literalEnd > i)
            {
                TemplateLimits.Ensure((long)sb.Length + (literalEnd - i), limit);
                sb.Append(format, i, literalEnd - i);
            }

            i = literalEnd + 1;
            if (literalEnd >= end)
            {
                break;
            }

            var minus = false;
            var plus = false;
            var zero = false;
            var space = false;
            var sharp = false;
            for (; i < end; i++)
            {
                var flag = format[i];
                if (flag == '#')
                {
                    sharp = true;
                }
                else if (flag == '0')
                {
                    // Only padding on the left may be zeros.
                    zero = !minus;
                }
                else if (flag == '+')
                {
                    plus = true;
                }
                else if (flag == '-')
                {
                    minus = true;
                    zero = false;
                }
                else if (flag == ' ')
                {
                    space = true;
                }
                else
                {
                    break;
                }
            }

            int width;
            bool hasWidth;
            if (i < end && format[i] == '*')
            {
                i++;
                hasWidth = IntFromArg(args, ref argIndex, out width);
                if (!hasWidth)
                {
                    sb.Append("%!(BADWIDTH)");
                }

                if (width < 0)
                {
                    width = -width;
                    minus = true;
                    zero = false;
                }
            }
            else
            {
                hasWidth = ParseNumber(format, ref i, out width);
            }

            int? precision = null;
            if (i + 1 < end && format[i] == '.')
            {
                i++;
                if (format[i] == '*')
                {
                    i++;
                    var hasPrecision = IntFromArg(args, ref argIndex, out var p);
                    if (p < 0)
                    {
                        // A negative precision makes no sense: Go drops it.
                        hasPrecision = false;
                    }

                    if (hasPrecision)
                    {
                        precision = p;
                    }
                    else
                    {
                        sb.Append("%!(BADPREC)");
                    }
                }
                else
                {
                    precision = ParseNumber(format, ref i, out var p) ? p : 0;
                }
            }

            if (i >= end)
            {
                sb.Append("%!(NOVERB)");
                break;
            }

            var verb = format[i++];
            if (verb == '%')
            {
                sb.Append('%');
                continue;
            }

            if (argIndex >= args.Length)
            {
                sb.Append("%!").Append(verb).Append("(MISSING)");
                continue;
            }

            var arg = args[argIndex++];
            if (precision is { } digits && verb is 'e' or 'E' or 'f' or 'F' && arg is double)
            {
                // The digits asked for are written out: checked before they are formatted.
                TemplateLimits.Ensure((long)sb.Length + digits, limit);
            }

            var text = FormatOne(verb, arg, precision, plus, space, sharp);
            var pad = hasWidth ? width - RuneCount(text) : 0;
            if (pad <= 0)
            {
                Append(sb, text, limit);
                continue;
            }

            TemplateLimits.Ensure((long)sb.Length + text.Length + pad, limit);
            if (minus)
            {
                sb.Append(text).Append(' ', pad);
            }
            else if (zero && verb is not ('s' or 'q' or 'v' or 't' or 'c') && arg is long or double)
            {
                var signed = text.Length > 0 && text[0] is '-' or '+';
                if (signed)
                {
                    sb.Append(text[0]).Append('0', pad).Append(text, 1, text.Length - 1);
                }
                else
                {
                    sb.Append('0', pad).Append(text);
                }
            }
            else
            {
                sb.Append(zero ? '0' : ' ', pad).Append(text);
            }
        }

        if (argIndex < args.Length)
        {
            sb.Append("%!(EXTRA ");
            for (var k = argIndex; k < args.Length; k++)
            {
                if (k > argIndex)
                {
                    sb.Append(", ");
                }

                sb.Append(TemplateValues.TypeName(args[k])).Append('=');
                Append(sb, PrintOperand(args[k]), limit);
            }

            sb.Append(')');
        }

        return sb.ToString();
    }

    private static int RuneCount(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    // fmt's parsenum: digits while the number so far is not too large; a number that is, and the rest of the
    // format with it, is dropped (Go then finds no verb).
    private static bool ParseNumber(string format, ref int i, out int number)
    {
        number = 0;
        var found = false;
        for (; i < format.Length && char.IsAsciiDigit(format[i]); i++)
        {
            if (number > MaxWidth)
            {
                number = 0;
                i = format.Length;
                return false;
            }

            number = (number * 10) + (format[i] - '0');
            found = true;
        }

        return found;
    }

    // fmt's intFromArg: the next operand as a width or precision when it is an integer of at most a million in
    // magnitude; the operand is used up either way.
    private static bool IntFromArg(object?[] args, ref int argIndex, out int number)
    {
        number = 0;
        if (argIndex >= args.Length)
        {
            return false;
        }

        var arg = args[argIndex++];
        if (arg is long value && value is >= -MaxWidth and <= MaxWidth)
        {
            number = (int)value;
            return true;
        }

        return false;
    }

    private static string FormatOne(char verb, object? arg, int? precision, bool plus, bool space, bool sharp)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (verb)
        {
            case 'v':
                return arg is string s0 && precision is { } p0 && p0 < s0.Length ? s0[..p0] : PrintOperand(arg);
            case 's':
                return arg switch
                {
                    string s => precision is { } p && p < s.Length ? s[..p] : s,
                    GoTime or IDictionary<string, object?> or IList<object?> or ITemplateData => TemplateValues.Print(arg),
                    _ => BadVerb(verb, arg),
                };
            case 'q':
                return arg switch
                {
                    string s => GoString.Quote(s),
                    long l when l is >= 0 and <= 0x10FFFF => "'" + char.ConvertFromUtf32((int)l) + "'",
                    _ => BadVerb(verb, arg),
                };
            case 't':
                return arg is bool b ? (b ? "true" : "false") : BadVerb(verb, arg);
            case 'd':
                return arg is long d ? Sign(d.ToString(inv), d >= 0, plus, space) : BadVerb(verb, arg);
            case 'c':
                return arg is long c && c is >= 0 and <= 0x10FFFF ? char.ConvertFromUtf32((int)c) : BadVerb(verb, arg);
            case 'x' or 'X':
                {
                    var hex = arg switch
                    {
                        long l => (l < 0 ? "-" : string.Empty) + (sharp ? "0x" : string.Empty) + Math.Abs(l).ToString("x", inv),
                        string s => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(s)),
                        double f => HexFloat(f),
                        _ => null,
                    };
                    if (hex is null)
                    {
                        return BadVerb(verb, arg);
                    }

                    return verb == 'X' ? hex.ToUpperInvariant() : hex;
                }

            case 'o':
                return arg is long o ? Convert.ToString(o, 8) : BadVerb(verb, arg);
            case 'b':
                return arg is long bn ? Convert.ToString(bn, 2) : BadVerb(verb, arg);
            case 'U':
                return arg is long u ? "U+" + u.ToString("X4", inv) : BadVerb(verb, arg);
            case 'e' or 'E' or 'f' or 'F' or 'g' or 'G':
                {
                    if (arg is not double f)
                    {
                        return BadVerb(verb, arg);
                    }

                    string text;
                    if (double.IsNaN(f))
                    {
                        text = "NaN";
                    }
                    else if (double.IsInfinity(f))
                    {
                        text = f > 0 ? (plus ? "+Inf" : "Inf") : "-Inf";
                        return text;
                    }
                    else
                    {
                        text = verb switch
                        {
                            'f' or 'F' => f.ToString("F" + (precision ?? 6).ToString(inv), inv),
                            'e' or 'E' => GoExponent(f.ToString((verb == 'e' ? "e" : "E") + (precision ?? 6).ToString(inv), inv)),
                            _ => precision is { } gp ? GoG(f, gp, verb) : GoFloat.FormatV(f),
                        };
                    }

                    return Sign(text, f >= 0 || double.IsNaN(f), plus, space);
                }

            default:
                return BadVerb(verb, arg);
        }
    }

    private static string GoG(double f, int precision, char verb)
    {
        var p = precision == 0 ? 1 : precision;
        var text = f.ToString((verb == 'G' ? "G" : "g") + p.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return GoExponent(text);
    }

    // .NET writes exponents as e+006 / E-05; Go uses at least two digits: e+06.
    private static string GoExponent(string text)
    {
        var e = text.IndexOfAny(['e', 'E']);
        if (e < 0)
        {
            return text;
        }

        var sign = text[e + 1] is '+' or '-' ? text[e + 1] : '+';
        var digits = text[(e + (text[e + 1] is '+' or '-' ? 2 : 1))..].TrimStart('0');
        if (digits.Length < 2)
        {
            digits = digits.PadLeft(2, '0');
        }

        return text[..(e + 1)] + sign + digits;
    }

    private static string HexFloat(double f) => BitConverter.DoubleToInt64Bits(f).ToString("x", CultureInfo.InvariantCulture);

    private static string Sign(string text, bool nonNegative, bool plus, bool space) =>
        !nonNegative ? text : plus ? "+" + text : space ? " " + text : text;

    private static string BadVerb(char verb, object? arg) =>
        arg is null ? "%!" + verb + "(<nil>)" : "%!" + verb + "(" + TemplateValues.TypeName(arg) + "=" + PrintOperand(arg) + ")";
}

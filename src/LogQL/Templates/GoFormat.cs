using System.Globalization;
using System.Text;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Templates;

/// <summary>Go's <c>fmt.Sprint</c>, <c>Sprintln</c> and <c>Sprintf</c> over template values.</summary>
internal static class GoFormat
{
    public static string Sprint(object?[] args)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < args.Length; i++)
        {
            // Sprint adds a space between operands when neither is a string.
            if (i > 0 && args[i] is not string && args[i - 1] is not string)
            {
                sb.Append(' ');
            }

            sb.Append(PrintOperand(args[i]));
        }

        return sb.ToString();
    }

    public static string Sprintln(object?[] args) => string.Join(' ', args.Select(PrintOperand)) + "\n";

    private static string PrintOperand(object? value) => value is null ? "<nil>" : TemplateValues.Print(value);

    public static string Sprintf(string format, object?[] args)
    {
        var sb = new StringBuilder(format.Length + 16);
        var argIndex = 0;
        var i = 0;
        while (i < format.Length)
        {
            var c = format[i];
            if (c != '%')
            {
                sb.Append(c);
                i++;
                continue;
            }

            i++;
            if (i >= format.Length)
            {
                sb.Append("%!(NOVERB)");
                break;
            }

            var minus = false;
            var plus = false;
            var zero = false;
            var space = false;
            var sharp = false;
            while (i < format.Length && format[i] is '-' or '+' or '0' or ' ' or '#')
            {
                switch (format[i])
                {
                    case '-': minus = true; break;
                    case '+': plus = true; break;
                    case '0': zero = true; break;
                    case ' ': space = true; break;
                    default: sharp = true; break;
                }

                i++;
            }

            var width = ReadNumber(format, ref i, args, ref argIndex);
            int? precision = null;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                precision = ReadNumber(format, ref i, args, ref argIndex) ?? 0;
            }

            if (i >= format.Length)
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
            var text = FormatOne(verb, arg, precision, plus, space, sharp);
            if (width is { } w && text.Length < w)
            {
                var pad = w - text.Length;
                if (minus)
                {
                    text += new string(' ', pad);
                }
                else if (zero && verb is not ('s' or 'q' or 'v' or 't' or 'c') && arg is long or double)
                {
                    var signed = text.Length > 0 && text[0] is '-' or '+';
                    text = signed ? text[0] + new string('0', pad) + text[1..] : new string('0', pad) + text;
                }
                else
                {
                    text = new string(zero && !minus ? '0' : ' ', pad) + text;
                }
            }

            sb.Append(text);
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

                sb.Append(TemplateValues.TypeName(args[k])).Append('=').Append(PrintOperand(args[k]));
            }

            sb.Append(')');
        }

        return sb.ToString();
    }

    private static int? ReadNumber(string format, ref int i, object?[] args, ref int argIndex)
    {
        if (i < format.Length && format[i] == '*')
        {
            i++;
            return argIndex < args.Length && args[argIndex++] is long l ? (int)l : null;
        }

        var start = i;
        while (i < format.Length && char.IsAsciiDigit(format[i]))
        {
            i++;
        }

        return i > start ? int.Parse(format.AsSpan(start, i - start), CultureInfo.InvariantCulture) : null;
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

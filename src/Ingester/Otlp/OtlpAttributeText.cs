using System.Globalization;
using System.Text;
using Google.Protobuf;
using LokiSharp.Ingester.Otlp.Protos;
using LokiSharp.Ingester.Push;
using LokiSharp.LogQL.Text;

namespace LokiSharp.Ingester.Otlp;

/// <summary>
/// How Loki turns OTLP attribute names into label names and attribute values into text: the Prometheus OTLP
/// label rule for names, the OpenTelemetry Collector's string form for values (maps and arrays as Go would
/// marshal them to JSON).
/// </summary>
public static class OtlpAttributeText
{
    /// <summary>
    /// The Prometheus OTLP label-name rule Loki applies: characters other than ASCII letters and digits become
    /// <c>_</c>, runs of <c>_</c> collapse to one, a leading digit gets a <c>key_</c> prefix, and a
    /// <c>__name__</c>-style reserved name keeps its double underscores.
    /// </summary>
    /// <exception cref="PushRequestException">400 for an empty name or one that is only underscores.</exception>
    public static string LabelName(string name)
    {
        if (name.Length == 0)
        {
            throw new PushRequestException(400, "symbolizer lookup: label name is empty");
        }

        if (IsAlreadyClean(name))
        {
            return name;
        }

        var reserved = name.Length >= 4 && name.StartsWith("__", StringComparison.Ordinal) && name.EndsWith("__", StringComparison.Ordinal);
        var inner = reserved ? name.AsSpan(2, name.Length - 4) : name.AsSpan();
        var sb = new StringBuilder(name.Length + 4);
        if (reserved)
        {
            sb.Append("__");
        }

        var previousUnderscore = false;
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (char.IsAsciiLetterOrDigit(c))
            {
                sb.Append(c);
                previousUnderscore = false;
            }
            else if (!previousUnderscore)
            {
                sb.Append('_');
                previousUnderscore = true;
            }

            // A surrogate pair is one character in Go's rune loop: one underscore, not two.
            if (char.IsHighSurrogate(c) && i + 1 < inner.Length && char.IsLowSurrogate(inner[i + 1]))
            {
                i++;
            }
        }

        if (reserved)
        {
            sb.Append("__");
        }

        if (char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, "key_");
        }

        var result = sb.ToString();
        if (result.AsSpan().IndexOfAnyExcept('_') < 0)
        {
            throw new PushRequestException(400,
                $"symbolizer lookup: normalization for label name {GoString.Quote(name)} resulted in invalid name {GoString.Quote(result)}");
        }

        return result;
    }

    // The fast path of the rule: a name that the rule leaves unchanged.
    private static bool IsAlreadyClean(string name)
    {
        if (char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        var span = name.AsSpan();
        if (span.Length >= 4 && span.StartsWith("__") && span.EndsWith("__"))
        {
            span = span[2..^2];
        }

        var previousUnderscore = false;
        var sawOther = false;
        foreach (var c in span)
        {
            if (c == '_')
            {
                if (previousUnderscore)
                {
                    return false;
                }

                previousUnderscore = true;
            }
            else if (char.IsAsciiLetterOrDigit(c))
            {
                previousUnderscore = false;
                sawOther = true;
            }
            else
            {
                return false;
            }
        }

        return sawOther;
    }

    /// <summary>
    /// The text of a value as the OpenTelemetry Collector renders it: strings as they are, integers in decimal,
    /// doubles in JavaScript number form, booleans as <c>true</c>/<c>false</c>, bytes in base64, maps and
    /// arrays as JSON, an empty value as the empty string.
    /// </summary>
    public static string Value(AnyValue? value)
    {
        if (value is null)
        {
            return "";
        }

        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                return value.StringValue;
            case AnyValue.ValueOneofCase.BoolValue:
                return value.BoolValue ? "true" : "false";
            case AnyValue.ValueOneofCase.IntValue:
                return value.IntValue.ToString(CultureInfo.InvariantCulture);
            case AnyValue.ValueOneofCase.DoubleValue:
                return double.IsFinite(value.DoubleValue)
                    ? JavaScriptNumber(value.DoubleValue)
                    : "json: unsupported value: " + GoNonFinite(value.DoubleValue);
            case AnyValue.ValueOneofCase.BytesValue:
                return value.BytesValue.ToBase64();
            case AnyValue.ValueOneofCase.KvlistValue:
            case AnyValue.ValueOneofCase.ArrayValue:
                var sb = new StringBuilder();
                // Go's json.Marshal fails on NaN and infinities and the Collector then renders nothing at all.
                return AppendJson(sb, value) ? sb.ToString() : "";
            default:
                return "";
        }
    }

    // Go's strconv 'g' form of a non-finite double.
    private static string GoNonFinite(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";

    /// <summary>
    /// A double as JavaScript (and Go's encoding/json) print it: shortest round-trip digits, plain notation
    /// from 1e-6 up to 1e21, exponent notation outside with no exponent padding.
    /// </summary>
    public static string JavaScriptNumber(double value)
    {
        if (value == 0)
        {
            return double.IsNegative(value) ? "-0" : "0";
        }

        // "R" yields the shortest round-trip digits; re-lay them out in JavaScript's notation.
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var negative = text[0] == '-';
        var body = negative ? text.AsSpan(1) : text.AsSpan();
        var exponent = 0;
        var e = body.IndexOf('E');
        if (e >= 0)
        {
            exponent = int.Parse(body[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            body = body[..e];
        }

        var point = body.IndexOf('.');
        var digits = point < 0 ? body.ToString() : string.Concat(body[..point], body[(point + 1)..]);
        var pointAt = (point < 0 ? body.Length : point) + exponent;
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        pointAt -= leadingZeros;

        var sb = new StringBuilder(digits.Length + 8);
        if (negative)
        {
            sb.Append('-');
        }

        var magnitude = Math.Abs(value);
        if (magnitude >= 1e-6 && magnitude < 1e21)
        {
            if (pointAt <= 0)
            {
                sb.Append("0.").Append('0', -pointAt).Append(digits);
            }
            else if (pointAt >= digits.Length)
            {
                sb.Append(digits).Append('0', pointAt - digits.Length);
            }
            else
            {
                sb.Append(digits.AsSpan(0, pointAt)).Append('.').Append(digits.AsSpan(pointAt));
            }

            return sb.ToString();
        }

        sb.Append(digits[0]);
        if (digits.Length > 1)
        {
            sb.Append('.').Append(digits.AsSpan(1));
        }

        var power = pointAt - 1;
        sb.Append('e').Append(power < 0 ? '-' : '+').Append(Math.Abs(power).ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    // Go's json.Marshal of the Collector's raw form: map keys sorted, the last of duplicate keys wins, bytes in
    // base64, HTML-sensitive characters escaped. False when a non-finite double makes Go's encoder fail.
    private static bool AppendJson(StringBuilder sb, AnyValue? value)
    {
        if (value is null)
        {
            sb.Append("null");
            return true;
        }

        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                AppendJsonString(sb, value.StringValue);
                return true;
            case AnyValue.ValueOneofCase.BoolValue:
                sb.Append(value.BoolValue ? "true" : "false");
                return true;
            case AnyValue.ValueOneofCase.IntValue:
                sb.Append(value.IntValue.ToString(CultureInfo.InvariantCulture));
                return true;
            case AnyValue.ValueOneofCase.DoubleValue:
                if (!double.IsFinite(value.DoubleValue))
                {
                    return false;
                }

                sb.Append(JavaScriptNumber(value.DoubleValue));
                return true;
            case AnyValue.ValueOneofCase.BytesValue:
                sb.Append('"').Append(value.BytesValue.ToBase64()).Append('"');
                return true;
            case AnyValue.ValueOneofCase.ArrayValue:
                sb.Append('[');
                for (var i = 0; i < value.ArrayValue.Values.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    if (!AppendJson(sb, value.ArrayValue.Values[i]))
                    {
                        return false;
                    }
                }

                sb.Append(']');
                return true;
            case AnyValue.ValueOneofCase.KvlistValue:
                var byKey = new SortedDictionary<string, AnyValue?>(StringComparer.Ordinal);
                foreach (var pair in value.KvlistValue.Values)
                {
                    byKey[pair.Key] = pair.Value;
                }

                sb.Append('{');
                var first = true;
                foreach (var (key, item) in byKey)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    AppendJsonString(sb, key);
                    sb.Append(':');
                    if (!AppendJson(sb, item))
                    {
                        return false;
                    }
                }

                sb.Append('}');
                return true;
            default:
                sb.Append("null");
                return true;
        }
    }

    // Go's encoding/json string escaping with HTML escaping on.
    private static void AppendJsonString(StringBuilder sb, string text)
    {
        sb.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                case '<' or '>' or '&' or '\u2028' or '\u2029':
                case < ' ':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        sb.Append('"');
    }

    /// <summary>An OTLP trace or span id as lowercase hex; null when it is empty or all zeros (unset).</summary>
    public static string? HexId(ByteString id)
    {
        var bytes = id.Span;
        return bytes.IndexOfAnyExcept((byte)0) < 0 ? null : Convert.ToHexStringLower(bytes);
    }
}

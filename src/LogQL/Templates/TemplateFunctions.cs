using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LokiSharp.LogQL.Text;

namespace LokiSharp.LogQL.Templates;

/// <summary>A template function: arity, parameter kinds (the last one repeats for variadic functions) and body.</summary>
internal sealed class TemplateFunction(int minArgs, int maxArgs, ParameterKind[] kinds, Func<TemplateExecution, object?[], object?> body)
{
    public int MinArgs { get; } = minArgs;

    public int MaxArgs { get; } = maxArgs;

    public ParameterKind ParameterKind(int index) => kinds.Length == 0 ? Templates.ParameterKind.Any : kinds[Math.Min(index, kinds.Length - 1)];

    public object? Invoke(TemplateExecution execution, object?[] args) => body(execution, args);
}

/// <summary>
/// The functions Loki registers for <c>line_format</c>/<c>label_format</c>: Go's built-ins, Loki's own, the deprecated
/// Go string helpers and the sprig subset, with the argument orders and conversions of their Go implementations.
/// </summary>
public static class TemplateFunctions
{
    private const ParameterKind A = ParameterKind.Any;
    private const ParameterKind S = ParameterKind.String;
    private const ParameterKind I = ParameterKind.Int;
    private const ParameterKind T = ParameterKind.Time;
    private const int Variadic = int.MaxValue;

    private static readonly ConcurrentDictionary<string, Regex> RegexCache = new(StringComparer.Ordinal);

    private static readonly Dictionary<string, TemplateFunction> Functions = new(StringComparer.Ordinal)
    {
        // Go built-ins (and/or are evaluated lazily by the executor).
        ["and"] = new(1, Variadic, [A], static (_, a) => a[^1]),
        ["or"] = new(1, Variadic, [A], static (_, a) => a[^1]),
        ["not"] = new(1, 1, [A], static (_, a) => !TemplateValues.IsTrue(a[0])),
        ["eq"] = new(1, Variadic, [A], static (_, a) => Equal(a)),
        ["ne"] = new(2, 2, [A], static (_, a) => TemplateValues.Compare(a[0], a[1], false) != 0),
        ["lt"] = new(2, 2, [A], static (_, a) => TemplateValues.Compare(a[0], a[1], true) == -1),
        ["le"] = new(2, 2, [A], static (_, a) => TemplateValues.Compare(a[0], a[1], true) is -1 or 0),
        ["gt"] = new(2, 2, [A], static (_, a) => TemplateValues.Compare(a[0], a[1], true) == 1),
        ["ge"] = new(2, 2, [A], static (_, a) => TemplateValues.Compare(a[0], a[1], true) is 1 or 0),
        ["len"] = new(1, 1, [A], static (_, a) => Length(a[0])),
        ["index"] = new(1, Variadic, [A], static (_, a) => Index(a)),
        ["slice"] = new(1, Variadic, [A], static (_, a) => Slice(a)),
        ["print"] = new(0, Variadic, [A], static (e, a) => GoFormat.Sprint(a, e.Limit)),
        ["println"] = new(0, Variadic, [A], static (e, a) => GoFormat.Sprintln(a, e.Limit)),
        ["printf"] = new(1, Variadic, [S, A], static (e, a) => GoFormat.Sprintf((string)a[0]!, a[1..], e.Limit)),
        ["html"] = new(0, Variadic, [A], static (e, a) => HtmlEscape(EvalArgs(a, e.Limit))),
        ["js"] = new(0, Variadic, [A], static (e, a) => JsEscape(EvalArgs(a, e.Limit))),
        ["urlquery"] = new(0, Variadic, [A], static (e, a) => QueryEscape(EvalArgs(a, e.Limit))),
        ["call"] = new(1, Variadic, [A], static (_, a) =>
            throw new TemplateFunctionException("non-function of type " + TemplateValues.TypeName(a[0]))),

        // Loki's functions.
        ["__line__"] = new(0, 0, [], static (e, _) => e.Context.Line),
        ["__timestamp__"] = new(0, 0, [], static (e, _) => GoTime.FromUnixNanos(e.Context.TimestampNs)),
        ["regexReplaceAll"] = new(3, 3, [S, S, S], static (e, a) => RegexReplace((string)a[0]!, (string)a[1]!, (string)a[2]!, literal: false, e.Limit)),
        ["regexReplaceAllLiteral"] = new(3, 3, [S, S, S], static (e, a) => RegexReplace((string)a[0]!, (string)a[1]!, (string)a[2]!, literal: true, e.Limit)),
        ["count"] = new(2, 2, [S, S], static (_, a) => (long)CompileRegex((string)a[0]!).Count((string)a[1]!)),
        ["urlencode"] = new(1, 1, [S], static (_, a) => QueryEscape((string)a[0]!)),
        ["urldecode"] = new(1, 1, [S], static (_, a) => QueryUnescape((string)a[0]!)),
        ["bytes"] = new(1, 1, [S], static (_, a) => ConvertBytes((string)a[0]!)),
        ["duration"] = new(1, 1, [S], static (_, a) => ConvertDuration((string)a[0]!)),
        ["duration_seconds"] = new(1, 1, [S], static (_, a) => ConvertDuration((string)a[0]!)),
        ["unixEpochMillis"] = new(1, 1, [T], static (_, a) => ((GoTime)a[0]!).UnixMillis.ToString(CultureInfo.InvariantCulture)),
        ["unixEpochNanos"] = new(1, 1, [T], static (_, a) => ((GoTime)a[0]!).UnixNanos.ToString(CultureInfo.InvariantCulture)),
        ["toDateInZone"] = new(3, 3, [S, S, S], static (_, a) => ToDateInZone((string)a[0]!, (string)a[1]!, (string)a[2]!)),
        ["unixToTime"] = new(1, 1, [S], static (_, a) => UnixToTime((string)a[0]!)),
        ["alignLeft"] = new(2, 2, [I, S], static (e, a) => Align((long)a[0]!, (string)a[1]!, left: true, e.Limit)),
        ["alignRight"] = new(2, 2, [I, S], static (e, a) => Align((long)a[0]!, (string)a[1]!, left: false, e.Limit)),
        ["b64dec"] = new(1, 1, [S], static (_, a) => Base64Decode((string)a[0]!)),

        // Deprecated Go string helpers.
        ["ToLower"] = new(1, 1, [S], static (_, a) => ((string)a[0]!).ToLowerInvariant()),
        ["ToUpper"] = new(1, 1, [S], static (_, a) => ((string)a[0]!).ToUpperInvariant()),
        ["Replace"] = new(4, 4, [S, S, S, I], static (e, a) => Replace((string)a[0]!, (string)a[1]!, (string)a[2]!, (long)a[3]!, e.Limit)),
        ["Trim"] = new(2, 2, [S, S], static (_, a) => ((string)a[0]!).Trim(((string)a[1]!).ToCharArray())),
        ["TrimLeft"] = new(2, 2, [S, S], static (_, a) => ((string)a[0]!).TrimStart(((string)a[1]!).ToCharArray())),
        ["TrimRight"] = new(2, 2, [S, S], static (_, a) => ((string)a[0]!).TrimEnd(((string)a[1]!).ToCharArray())),
        ["TrimPrefix"] = new(2, 2, [S, S], static (_, a) => TrimPrefix((string)a[0]!, (string)a[1]!)),
        ["TrimSuffix"] = new(2, 2, [S, S], static (_, a) => TrimSuffix((string)a[0]!, (string)a[1]!)),
        ["TrimSpace"] = new(1, 1, [S], static (_, a) => TrimSpace((string)a[0]!)),

        // sprig (argument order is sprig's: the subject comes last).
        ["b64enc"] = new(1, 1, [S], static (_, a) => Convert.ToBase64String(Encoding.UTF8.GetBytes((string)a[0]!))),
        ["lower"] = new(1, 1, [S], static (_, a) => ((string)a[0]!).ToLowerInvariant()),
        ["upper"] = new(1, 1, [S], static (_, a) => ((string)a[0]!).ToUpperInvariant()),
        ["title"] = new(1, 1, [S], static (_, a) => Title((string)a[0]!)),
        ["trunc"] = new(2, 2, [I, S], static (_, a) => Trunc((long)a[0]!, (string)a[1]!)),
        ["substr"] = new(3, 3, [I, I, S], static (_, a) => Substr((long)a[0]!, (long)a[1]!, (string)a[2]!)),
        ["contains"] = new(2, 2, [S, S], static (_, a) => ((string)a[1]!).Contains((string)a[0]!, StringComparison.Ordinal)),
        ["hasPrefix"] = new(2, 2, [S, S], static (_, a) => ((string)a[1]!).StartsWith((string)a[0]!, StringComparison.Ordinal)),
        ["hasSuffix"] = new(2, 2, [S, S], static (_, a) => ((string)a[1]!).EndsWith((string)a[0]!, StringComparison.Ordinal)),
        ["indent"] = new(2, 2, [I, S], static (e, a) => Indent((long)a[0]!, (string)a[1]!, prefix: "", e.Limit)),
        ["nindent"] = new(2, 2, [I, S], static (e, a) => Indent((long)a[0]!, (string)a[1]!, prefix: "\n", e.Limit)),
        ["replace"] = new(3, 3, [S, S, S], static (e, a) => Replace((string)a[2]!, (string)a[0]!, (string)a[1]!, -1, e.Limit)),
        ["repeat"] = new(2, 2, [I, S], static (e, a) => Repeat((long)a[0]!, (string)a[1]!, e.Limit)),
        ["trim"] = new(1, 1, [S], static (_, a) => TrimSpace((string)a[0]!)),
        ["trimAll"] = new(2, 2, [S, S], static (_, a) => ((string)a[1]!).Trim(((string)a[0]!).ToCharArray())),
        ["trimSuffix"] = new(2, 2, [S, S], static (_, a) => TrimSuffix((string)a[1]!, (string)a[0]!)),
        ["trimPrefix"] = new(2, 2, [S, S], static (_, a) => TrimPrefix((string)a[1]!, (string)a[0]!)),
        ["int"] = new(1, 1, [A], static (_, a) => TemplateValues.ToInt64(a[0])),
        ["float64"] = new(1, 1, [A], static (_, a) => TemplateValues.ToFloat64(a[0])),
        ["add"] = new(0, Variadic, [A], static (_, a) => a.Aggregate(0L, static (s, v) => unchecked(s + TemplateValues.ToInt64(v)))),
        ["sub"] = new(2, 2, [A], static (_, a) => unchecked(TemplateValues.ToInt64(a[0]) - TemplateValues.ToInt64(a[1]))),
        ["mul"] = new(1, Variadic, [A], static (_, a) =>
            a.Skip(1).Aggregate(TemplateValues.ToInt64(a[0]), static (s, v) => unchecked(s * TemplateValues.ToInt64(v)))),
        ["div"] = new(2, 2, [A], static (_, a) => IntegerDivide(TemplateValues.ToInt64(a[0]), TemplateValues.ToInt64(a[1]), modulo: false)),
        ["mod"] = new(2, 2, [A], static (_, a) => IntegerDivide(TemplateValues.ToInt64(a[0]), TemplateValues.ToInt64(a[1]), modulo: true)),
        ["addf"] = new(0, Variadic, [A], static (_, a) => DecimalFold(a, 0, static (x, y) => x + y)),
        ["subf"] = new(1, Variadic, [A], static (_, a) => DecimalFold(a[1..], TemplateValues.ToFloat64(a[0]), static (x, y) => x - y)),
        ["mulf"] = new(1, Variadic, [A], static (_, a) => DecimalFold(a[1..], TemplateValues.ToFloat64(a[0]), static (x, y) => x * y)),
        ["divf"] = new(1, Variadic, [A], static (_, a) => DecimalFold(a[1..], TemplateValues.ToFloat64(a[0]), DecimalDivide)),
        ["max"] = new(1, Variadic, [A], static (_, a) => a.Select(TemplateValues.ToInt64).Max()),
        ["min"] = new(1, Variadic, [A], static (_, a) => a.Select(TemplateValues.ToInt64).Min()),
        ["maxf"] = new(1, Variadic, [A], static (_, a) => a.Select(TemplateValues.ToFloat64).Aggregate(Math.Max)),
        ["minf"] = new(1, Variadic, [A], static (_, a) => a.Select(TemplateValues.ToFloat64).Aggregate(Math.Min)),
        ["ceil"] = new(1, 1, [A], static (_, a) => Math.Ceiling(TemplateValues.ToFloat64(a[0]))),
        ["floor"] = new(1, 1, [A], static (_, a) => Math.Floor(TemplateValues.ToFloat64(a[0]))),
        ["round"] = new(2, 3, [A, I, ParameterKind.Float], static (_, a) => Round(a)),
        ["fromJson"] = new(1, 1, [S], static (_, a) => FromJson((string)a[0]!)),
        ["date"] = new(2, 2, [S, A], static (_, a) => DateValue(a[1]).Format((string)a[0]!)),
        ["toDate"] = new(2, 2, [S, S], static (_, a) => GoTime.Parse((string)a[0]!, (string)a[1]!, TimeZoneInfo.Local) ?? GoTime.Zero),
        ["now"] = new(0, 0, [], static (_, _) => GoTime.FromUnixNanos((DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100)),
        ["unixEpoch"] = new(1, 1, [T], static (_, a) => ((GoTime)a[0]!).UnixSeconds.ToString(CultureInfo.InvariantCulture)),
        ["default"] = new(1, Variadic, [A], static (_, a) => a.Length < 2 || TemplateValues.IsEmpty(a[1]) ? a[0] : a[1]),
    };

    /// <summary>Whether a function of that name exists (what the template parser accepts).</summary>
    public static bool Exists(string name) => Functions.ContainsKey(name);

    /// <summary>Every function name.</summary>
    public static IEnumerable<string> Names => Functions.Keys;

    internal static TemplateFunction Get(string name) => Functions[name];

    /// <summary>Every function by name (what <see cref="TemplateFunctionTable.Loki"/> holds).</summary>
    internal static IReadOnlyDictionary<string, TemplateFunction> All => Functions;

    private static bool Equal(object?[] a)
    {
        if (a.Length < 2)
        {
            throw new TemplateFunctionException("missing argument for comparison");
        }

        for (var i = 1; i < a.Length; i++)
        {
            if (TemplateValues.Compare(a[0], a[i], false) == 0)
            {
                return true;
            }
        }

        return false;
    }

    private static long Length(object? value) => value switch
    {
        string s => Encoding.UTF8.GetByteCount(s),
        IDictionary<string, object?> map => map.Count,
        IList<object?> list => list.Count,
        ITemplateData data => data.Pairs.Count(),
        _ => throw new TemplateFunctionException("len of type " + TemplateValues.TypeName(value)),
    };

    private static object? Index(object?[] a)
    {
        var item = a[0];
        for (var i = 1; i < a.Length; i++)
        {
            var key = a[i];
            switch (item)
            {
                case ITemplateData data:
                    item = key is string k1
                        ? data.Get(k1) ?? string.Empty
                        : throw new TemplateFunctionException("value has type " + TemplateValues.TypeName(key) + "; should be string");
                    break;
                case IDictionary<string, object?> map:
                    item = key is string k2
                        ? (map.TryGetValue(k2, out var v) ? v : null)
                        : throw new TemplateFunctionException("value has type " + TemplateValues.TypeName(key) + "; should be string");
                    break;
                case IList<object?> list:
                    {
                        var idx = key is long l ? l : throw new TemplateFunctionException("cannot index slice/array with type " + TemplateValues.TypeName(key));
                        if (idx < 0 || idx >= list.Count)
                        {
                            throw new TemplateFunctionException("index out of range: " + idx.ToString(CultureInfo.InvariantCulture));
                        }

                        item = list[(int)idx];
                        break;
                    }

                case string s:
                    {
                        var bytes = Encoding.UTF8.GetBytes(s);
                        var idx = key is long l ? l : throw new TemplateFunctionException("cannot index slice/array with type " + TemplateValues.TypeName(key));
                        if (idx < 0 || idx >= bytes.Length)
                        {
                            throw new TemplateFunctionException("index out of range: " + idx.ToString(CultureInfo.InvariantCulture));
                        }

                        item = (long)bytes[idx];
                        break;
                    }

                case null:
                    throw new TemplateFunctionException("index of untyped nil");
                default:
                    throw new TemplateFunctionException("can't index item of type " + TemplateValues.TypeName(item));
            }
        }

        return item;
    }

    private static object? Slice(object?[] a)
    {
        var item = a[0];
        var indexes = a[1..].Select(static x =>
            x is long l ? l : throw new TemplateFunctionException("cannot index slice/array with type " + TemplateValues.TypeName(x))).ToArray();
        if (indexes.Length > 3 || (item is string && indexes.Length > 2))
        {
            throw new TemplateFunctionException("too many slice indexes: " + indexes.Length.ToString(CultureInfo.InvariantCulture));
        }

        switch (item)
        {
            case string s:
                {
                    var bytes = Encoding.UTF8.GetBytes(s);
                    var (from, to) = Bounds(indexes, bytes.Length);
                    return LabelKeysDecode(bytes.AsSpan((int)from, (int)(to - from)));
                }

            case IList<object?> list:
                {
                    var (from, to) = Bounds(indexes, list.Count);
                    return list.Skip((int)from).Take((int)(to - from)).ToList();
                }

            default:
                throw new TemplateFunctionException("can't slice item of type " + TemplateValues.TypeName(item));
        }
    }

    private static (long From, long To) Bounds(long[] indexes, int length)
    {
        var from = indexes.Length > 0 ? indexes[0] : 0;
        var to = indexes.Length > 1 ? indexes[1] : length;
        if (from < 0 || to < from || to > length)
        {
            throw new TemplateFunctionException("index out of range: " + (from < 0 || from > length ? from : to).ToString(CultureInfo.InvariantCulture));
        }

        return (from, to);
    }

    private static string LabelKeysDecode(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    private static string EvalArgs(object?[] a, int limit) => a.Length == 1 && a[0] is string s ? s : GoFormat.Sprint(a, limit);

    private static string HtmlEscape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "&#34;",
                '\'' => "&#39;",
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '\0' => "\uFFFD",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }

    private static string JsEscape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\'': sb.Append("\\'"); break;
                case '"': sb.Append("\\\""); break;
                case '<': sb.Append("\\u003C"); break;
                case '>': sb.Append("\\u003E"); break;
                case '&': sb.Append("\\u0026"); break;
                case '=': sb.Append("\\u003D"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < ' ')
                    {
                        sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>Go's <c>url.QueryEscape</c>.</summary>
    internal static string QueryEscape(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                sb.Append((char)b);
            }
            else if (b == ' ')
            {
                sb.Append('+');
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static string QueryUnescape(string s)
    {
        var bytes = new List<byte>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c == '%')
            {
                if (i + 2 >= s.Length || !char.IsAsciiHexDigit(s[i + 1]) || !char.IsAsciiHexDigit(s[i + 2]))
                {
                    var bad = s.Substring(i, Math.Min(3, s.Length - i));
                    throw new TemplateFunctionException("invalid URL escape " + GoString.Quote(bad));
                }

                bytes.Add(byte.Parse(s.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static double ConvertBytes(string s) =>
        HumanBytes.TryParse(s, out var bytes, out var error) ? bytes : throw new TemplateFunctionException(error ?? "invalid size");

    private static double ConvertDuration(string s) =>
        GoDuration.TryParseGo(s, out var error) is { } d ? d.TotalSeconds : throw new TemplateFunctionException(error ?? "time: invalid duration");

    private static GoTime ToDateInZone(string layout, string zone, string value)
    {
        TimeZoneInfo tz;
        try
        {
            tz = zone is "UTC" or "" ? TimeZoneInfo.Utc : zone == "Local" ? TimeZoneInfo.Local : TimeZoneInfo.FindSystemTimeZoneById(zone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            tz = TimeZoneInfo.Utc;
        }

        return GoTime.Parse(layout, value, tz) ?? GoTime.Zero;
    }

    private static GoTime UnixToTime(string epoch)
    {
        if (!long.TryParse(epoch, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            throw new TemplateFunctionException("unable to parse time '" + epoch + "': strconv.ParseInt: parsing " + GoString.Quote(epoch) + ": " +
                                                (epoch.Length > 0 && epoch.TrimStart('-', '+').All(char.IsAsciiDigit)
                                                    ? "value out of range" : "invalid syntax"));
        }

        return epoch.Length switch
        {
            5 => new GoTime(n * 86400, 0, TimeZoneInfo.Local),
            10 => new GoTime(n, 0, TimeZoneInfo.Local),
            13 => GoTime.FromUnixNanos(n * 1_000_000),
            16 => GoTime.FromUnixNanos(n * 1000),
            19 => GoTime.FromUnixNanos(n),
            _ => throw new TemplateFunctionException("unable to parse time '" + epoch + "': %!w(<nil>)"),
        };
    }

    private static string Align(long count, string src, bool left, int limit)
    {
        var runes = src.EnumerateRunes().ToArray();
        if (count < 0 || count == runes.Length)
        {
            return src;
        }

        if (count > runes.Length)
        {
            // The padding is as long as the count asks: checked before it is allocated.
            TemplateLimits.Ensure(count, limit);
            TemplateLimits.Ensure(src.Length + (count - runes.Length), limit);
        }

        var pad = (int)count - runes.Length;
        if (pad > 0)
        {
            return left ? src + new string(' ', pad) : new string(' ', pad) + src;
        }

        var kept = left ? runes[..(int)count] : runes[^(int)count..];
        return string.Concat(kept.Select(static r => r.ToString()));
    }

    private static string Base64Decode(string v)
    {
        var remainder = v.Length % 4;
        if (remainder is not 0 and not 1)
        {
            v += new string('=', 4 - remainder);
        }

        var buffer = new byte[(v.Length * 3 / 4) + 3];
        if (Convert.TryFromBase64String(v, buffer, out var written) && !v.Contains(' ', StringComparison.Ordinal)
            && !v.Contains('\t', StringComparison.Ordinal))
        {
            return Encoding.UTF8.GetString(buffer, 0, written);
        }

        // Go reports the offset of the first byte it cannot decode.
        var position = 0;
        while (position < v.Length && (char.IsAsciiLetterOrDigit(v[position]) || v[position] is '+' or '/'))
        {
            position++;
        }

        if (position == v.Length || (v[position] == '=' && position % 4 < 2))
        {
            position = v[position..].Length > 0 && position % 4 < 2 && v[position] == '=' ? position : v.Length - (v.Length % 4);
        }

        return "illegal base64 data at input byte " + position.ToString(CultureInfo.InvariantCulture);
    }

    private static string Replace(string s, string oldValue, string newValue, long n, int limit)
    {
        if (n == 0 || oldValue == newValue)
        {
            return s;
        }

        if (newValue.Length > oldValue.Length)
        {
            // Each replacement grows the result: the count of them is known before anything is built.
            var growth = (long)(newValue.Length - oldValue.Length) * Occurrences(s, oldValue, n);
            TemplateLimits.Ensure(s.Length + growth, limit);
        }

        if (oldValue.Length == 0)
        {
            // Go inserts the replacement before every rune and at the end.
            var sb = new StringBuilder();
            var count = 0L;
            foreach (var rune in s.EnumerateRunes())
            {
                if (n < 0 || count < n)
                {
                    sb.Append(newValue);
                    count++;
                }

                sb.Append(rune.ToString());
            }

            if (n < 0 || count < n)
            {
                sb.Append(newValue);
            }

            return sb.ToString();
        }

        if (n < 0)
        {
            return s.Replace(oldValue, newValue, StringComparison.Ordinal);
        }

        var result = new StringBuilder();
        var start = 0;
        for (var i = 0L; i < n; i++)
        {
            var at = s.IndexOf(oldValue, start, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }

            result.Append(s, start, at - start).Append(newValue);
            start = at + oldValue.Length;
        }

        return result.Append(s, start, s.Length - start).ToString();
    }

    // How many replacements Go's strings.Replace makes: non-overlapping matches, or with an empty old value one
    // before each rune and one at the end; at most n when n is not negative.
    private static long Occurrences(string s, string oldValue, long n)
    {
        long count;
        if (oldValue.Length == 0)
        {
            count = s.EnumerateRunes().Count() + 1L;
        }
        else
        {
            count = 0;
            for (var at = s.IndexOf(oldValue, StringComparison.Ordinal); at >= 0 && (n < 0 || count < n);
                 at = s.IndexOf(oldValue, at + oldValue.Length, StringComparison.Ordinal))
            {
                count++;
            }
        }

        return n < 0 ? count : Math.Min(count, n);
    }

    private static string TrimPrefix(string s, string prefix) =>
        prefix.Length > 0 && s.StartsWith(prefix, StringComparison.Ordinal) ? s[prefix.Length..] : s;

    private static string TrimSuffix(string s, string suffix) =>
        suffix.Length > 0 && s.EndsWith(suffix, StringComparison.Ordinal) ? s[..^suffix.Length] : s;

    private static string TrimSpace(string s) => s.Trim(' ', '\t', '\n', '\r', '\v', '\f', '\u0085', '\u00A0');

    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var previousIsSeparator = true;
        foreach (var rune in s.EnumerateRunes())
        {
            sb.Append((previousIsSeparator ? Rune.ToUpperInvariant(rune) : rune).ToString());
            previousIsSeparator = IsTitleSeparator(rune);
        }

        return sb.ToString();
    }

    private static bool IsTitleSeparator(Rune r)
    {
        if (r.Value <= 0x7F)
        {
            var c = (char)r.Value;
            return !(char.IsAsciiLetterOrDigit(c) || c == '_');
        }

        return !(Rune.IsLetter(r) || Rune.IsDigit(r)) && Rune.IsWhiteSpace(r);
    }

    private static string Trunc(long c, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        if (c < 0 && bytes.Length + c > 0)
        {
            return Encoding.UTF8.GetString(bytes, (int)(bytes.Length + c), (int)-c);
        }

        if (c >= 0 && bytes.Length > c)
        {
            return Encoding.UTF8.GetString(bytes, 0, (int)c);
        }

        return s;
    }

    private static string Substr(long start, long end, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        if (start < 0)
        {
            if (end > bytes.Length || end < 0)
            {
                throw new TemplateFunctionException("runtime error: slice bounds out of range [:" + end.ToString(CultureInfo.InvariantCulture) +
                                                    "] with length " + bytes.Length.ToString(CultureInfo.InvariantCulture));
            }

            return Encoding.UTF8.GetString(bytes, 0, (int)end);
        }

        if (end < 0 || end > bytes.Length)
        {
            if (start > bytes.Length)
            {
                throw new TemplateFunctionException("runtime error: slice bounds out of range [" + start.ToString(CultureInfo.InvariantCulture) +
                                                    ":" + bytes.Length.ToString(CultureInfo.InvariantCulture) + "]");
            }

            return Encoding.UTF8.GetString(bytes, (int)start, bytes.Length - (int)start);
        }

        if (start > end)
        {
            throw new TemplateFunctionException("runtime error: slice bounds out of range [" + start.ToString(CultureInfo.InvariantCulture) +
                                                ":" + end.ToString(CultureInfo.InvariantCulture) + "]");
        }

        return Encoding.UTF8.GetString(bytes, (int)start, (int)(end - start));
    }

    // sprig's indent: the pad (strings.Repeat of a space, so a negative count fails as Go's does) before every line.
    private static string Indent(long spaces, string v, string prefix, int limit)
    {
        if (spaces < 0)
        {
            throw new TemplateFunctionException("strings: negative Repeat count");
        }

        TemplateLimits.Ensure(spaces, limit);
        var lines = 1L + v.AsSpan().Count('\n');
        TemplateLimits.Ensure(prefix.Length + v.Length + (spaces * lines), limit);
        var pad = new string(' ', (int)spaces);
        return prefix + pad + v.Replace("\n", "\n" + pad, StringComparison.Ordinal);
    }

    private static string Repeat(long count, string s, int limit)
    {
        if (count < 0)
        {
            throw new TemplateFunctionException("strings: negative Repeat count");
        }

        if (s.Length == 0 || count == 0)
        {
            return string.Empty;
        }

        // Checked before anything is built (Go would build it, however large).
        if (count > limit / s.Length)
        {
            throw TemplateLimits.TooLarge(limit);
        }

        return string.Concat(Enumerable.Repeat(s, (int)count));
    }

    private static string RegexReplace(string pattern, string input, string replacement, bool literal, int limit)
    {
        var regex = CompileRegex(pattern);
        // Each match's replacement is counted as it is made, so a replacement that multiplies the text stops at the limit.
        var produced = 0L;
        var copiedTo = 0;
        return regex.Replace(input, match =>
        {
            var text = literal ? replacement : Expand(match, replacement, limit);
            produced += match.Index - copiedTo + text.Length;
            copiedTo = match.Index + match.Length;
            TemplateLimits.Ensure(produced + (input.Length - copiedTo), limit);
            return text;
        });
    }

    private static long IntegerDivide(long a, long b, bool modulo) =>
        b == 0 ? throw new TemplateFunctionException("runtime error: integer divide by zero")
        : modulo ? a % b : a / b;

    private static double DecimalFold(object?[] values, double seed, Func<decimal, decimal, decimal> op)
    {
        try
        {
            var acc = ToDecimal(seed);
            foreach (var v in values)
            {
                acc = op(acc, ToDecimal(TemplateValues.ToFloat64(v)));
            }

            return double.Parse(acc.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            return double.NaN;
        }
    }

    private static decimal ToDecimal(double d) =>
        decimal.Parse(d.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static decimal DecimalDivide(decimal a, decimal b) =>
        b == 0 ? throw new TemplateFunctionException("decimal division by 0") : Math.Round(a / b, 16, MidpointRounding.AwayFromZero);

    private static double Round(object?[] a)
    {
        var roundOn = a.Length > 2 ? (double)a[2]! : .5;
        var value = TemplateValues.ToFloat64(a[0]);
        var pow = Math.Pow(10, (long)a[1]!);
        var digit = pow * value;
        var fraction = digit - Math.Truncate(digit);
        var rounded = fraction >= roundOn ? Math.Ceiling(digit) : Math.Floor(digit);
        return rounded / pow;
    }

    private static object? FromJson(string s)
    {
        try
        {
            using var doc = JsonDocument.Parse(s);
            return FromJsonElement(doc.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static object? FromJsonElement(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().GroupBy(static p => p.Name)
            .ToDictionary(static g => g.Key, static g => FromJsonElement(g.Last().Value), StringComparer.Ordinal),
        JsonValueKind.Array => e.EnumerateArray().Select(FromJsonElement).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static GoTime DateValue(object? value) => value switch
    {
        GoTime t => t with { Zone = TimeZoneInfo.Local },
        long seconds => new GoTime(seconds, 0, TimeZoneInfo.Local),
        _ => GoTime.FromUnixNanos((DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100),
    };

    private static Regex CompileRegex(string pattern)
    {
        if (RegexCache.TryGetValue(pattern, out var regex))
        {
            return regex;
        }

        regex = Re2Regex.TryCompile(pattern, anchored: false, out var error) ?? throw new TemplateFunctionException(error ?? "invalid regexp");
        if (RegexCache.Count < 256)
        {
            RegexCache[pattern] = regex;
        }

        return regex;
    }

    // Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$; a name is the longest run of letters, digits and '_'.
    private static string Expand(Match match, string template, int limit)
    {
        var sb = new StringBuilder(template.Length + 16);
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c != '$' || i + 1 >= template.Length)
            {
                sb.Append(c);
                continue;
            }

            if (template[i + 1] == '$')
            {
                sb.Append('$');
                i++;
                continue;
            }

            string name;
            int end;
            if (template[i + 1] == '{')
            {
                var close = template.IndexOf('}', i + 2);
                if (close < 0)
                {
                    sb.Append(c);
                    continue;
                }

                name = template[(i + 2)..close];
                end = close;
            }
            else
            {
                end = i + 1;
                while (end < template.Length && (char.IsAsciiLetterOrDigit(template[end]) || template[end] == '_'))
                {
                    end++;
                }

                name = template[(i + 1)..end];
                end--;
            }

            if (name.Length == 0 || !name.All(static ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
            {
                sb.Append(c);
                continue;
            }

            var group = int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? match.Groups[number] : match.Groups[name];
            if (group.Success)
            {
                // A template repeating a large group multiplies it.
                TemplateLimits.Ensure((long)sb.Length + group.Length, limit);
                sb.Append(group.ValueSpan);
            }

            i = end;
        }

        return sb.ToString();
    }
}

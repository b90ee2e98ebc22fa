using System.Globalization;
using System.Text;

namespace LokiSharp.LogQL.Text;

/// <summary>
/// A Go <c>time.Duration</c> (signed nanoseconds) with the two textual forms LogQL uses: Go's
/// (<c>1h0m0s</c>, accepting fractions) and Prometheus' (<c>1h30m</c>, <c>2d</c>, <c>1w</c>).
/// </summary>
public readonly record struct GoDuration(long Nanoseconds) : IComparable<GoDuration>
{
    private const long Microsecond = 1000;
    private const long Millisecond = 1000 * Microsecond;
    private const long Second = 1000 * Millisecond;
    private const long Minute = 60 * Second;
    private const long Hour = 60 * Minute;
    private const long Day = 24 * Hour;

    /// <summary>The zero duration.</summary>
    public static GoDuration Zero => default;

    /// <summary>The duration as a <see cref="TimeSpan"/> (100 ns resolution).</summary>
    public TimeSpan ToTimeSpan() => TimeSpan.FromTicks(Nanoseconds / 100);

    /// <summary>The duration in seconds.</summary>
    public double TotalSeconds => Nanoseconds / 1e9;

    /// <summary>Creates a duration from a <see cref="TimeSpan"/>.</summary>
    public static GoDuration FromTimeSpan(TimeSpan span) => new(span.Ticks * 100);

    /// <inheritdoc />
    public int CompareTo(GoDuration other) => Nanoseconds.CompareTo(other.Nanoseconds);

    /// <summary>Go's <c>Duration.String()</c>: <c>1h0m0s</c>, <c>1.5s</c>, <c>250ms</c>, <c>0s</c>.</summary>
    public override string ToString()
    {
        var d = Nanoseconds;
        if (d == 0)
        {
            return "0s";
        }

        var negative = d < 0;
        var u = negative ? (ulong)(-(d + 1)) + 1 : (ulong)d;
        var sb = new StringBuilder(24);
        if (u < (ulong)Second)
        {
            // Sub-second values use a smaller unit so that they stay short.
            int precision;
            string unit;
            if (u < (ulong)Microsecond)
            {
                sb.Append(u.ToString(CultureInfo.InvariantCulture)).Append("ns");
                return (negative ? "-" : string.Empty) + sb;
            }

            if (u < (ulong)Millisecond)
            {
                precision = 3;
                unit = "µs";
            }
            else
            {
                precision = 6;
                unit = "ms";
            }

            AppendFraction(sb, u, precision);
            sb.Append(unit);
        }
        else
        {
            var seconds = u / (ulong)Second;
            var frac = u % (ulong)Second;
            var secPart = new StringBuilder();
            secPart.Append((seconds % 60).ToString(CultureInfo.InvariantCulture));
            AppendFractionDigits(secPart, frac, 9);
            secPart.Append('s');
            var minutes = seconds / 60;
            if (minutes > 0)
            {
                var hours = minutes / 60;
                if (hours > 0)
                {
                    sb.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
                }

                sb.Append((minutes % 60).ToString(CultureInfo.InvariantCulture)).Append('m');
            }

            sb.Append(secPart);
        }

        return negative ? "-" + sb : sb.ToString();
    }

    private static void AppendFraction(StringBuilder sb, ulong value, int precision)
    {
        ulong divisor = 1;
        for (var i = 0; i < precision; i++)
        {
            divisor *= 10;
        }

        sb.Append((value / divisor).ToString(CultureInfo.InvariantCulture));
        AppendFractionDigits(sb, value % divisor, precision);
    }

    private static void AppendFractionDigits(StringBuilder sb, ulong frac, int precision)
    {
        if (frac == 0)
        {
            return;
        }

        var digits = frac.ToString(CultureInfo.InvariantCulture).PadLeft(precision, '0').TrimEnd('0');
        sb.Append('.').Append(digits);
    }

    /// <summary>Prometheus' <c>model.Duration.String()</c>: <c>5m</c>, <c>1h30m</c>, <c>90d</c>, <c>1w</c>.</summary>
    public string ToPrometheusString()
    {
        var ms = Nanoseconds / Millisecond;
        if (ms == 0)
        {
            return "0s";
        }

        var sb = new StringBuilder(16);
        if (ms < 0)
        {
            sb.Append('-');
            ms = -ms;
        }

        AppendUnit(sb, ref ms, "y", 1000L * 60 * 60 * 24 * 365, exact: true);
        AppendUnit(sb, ref ms, "w", 1000L * 60 * 60 * 24 * 7, exact: true);
        AppendUnit(sb, ref ms, "d", 1000L * 60 * 60 * 24, exact: false);
        AppendUnit(sb, ref ms, "h", 1000L * 60 * 60, exact: false);
        AppendUnit(sb, ref ms, "m", 1000L * 60, exact: false);
        AppendUnit(sb, ref ms, "s", 1000L, exact: false);
        AppendUnit(sb, ref ms, "ms", 1, exact: false);
        return sb.ToString();
    }

    private static void AppendUnit(StringBuilder sb, ref long ms, string unit, long mult, bool exact)
    {
        if (exact && ms % mult != 0)
        {
            return;
        }

        var v = ms / mult;
        if (v > 0)
        {
            sb.Append(v.ToString(CultureInfo.InvariantCulture)).Append(unit);
            ms -= v * mult;
        }
    }

    /// <summary>
    /// Prometheus' <c>model.ParseDuration</c>: integer components in strictly decreasing units
    /// <c>y w d h m s ms</c>, or a bare <c>0</c>. Returns null and an error text on failure.
    /// </summary>
    public static GoDuration? TryParsePrometheus(ReadOnlySpan<char> s, out string? error)
    {
        error = null;
        if (s is "0")
        {
            return Zero;
        }

        if (s.IsEmpty)
        {
            error = "empty duration string";
            return null;
        }

        var orig = s;
        ulong total = 0;
        var lastUnitPos = 0;
        while (!s.IsEmpty)
        {
            if (!char.IsAsciiDigit(s[0]))
            {
                error = "not a valid duration string: " + GoString.Quote(orig.ToString());
                return null;
            }

            var i = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (!ulong.TryParse(s[..i], NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            {
                error = "not a valid duration string: " + GoString.Quote(orig.ToString());
                return null;
            }

            s = s[i..];
            i = 0;
            while (i < s.Length && !char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (i == 0)
            {
                error = "not a valid duration string: " + GoString.Quote(orig.ToString());
                return null;
            }

            var unit = s[..i];
            s = s[i..];
            (int pos, ulong mult) = unit switch
            {
                "ms" => (7, (ulong)Millisecond),
                "s" => (6, (ulong)Second),
                "m" => (5, (ulong)Minute),
                "h" => (4, (ulong)Hour),
                "d" => (3, (ulong)Day),
                "w" => (2, (ulong)(7 * Day)),
                "y" => (1, (ulong)(365 * Day)),
                _ => (0, 0UL),
            };
            if (pos == 0)
            {
                error = "unknown unit " + GoString.Quote(unit.ToString()) + " in duration " + GoString.Quote(orig.ToString());
                return null;
            }

            if (pos <= lastUnitPos)
            {
                error = "not a valid duration string: " + GoString.Quote(orig.ToString());
                return null;
            }

            lastUnitPos = pos;
            if (v > (1UL << 63) / mult)
            {
                error = "duration out of range";
                return null;
            }

            total += v * mult;
            if (total > long.MaxValue)
            {
                error = "duration out of range";
                return null;
            }
        }

        return new GoDuration((long)total);
    }

    /// <summary>
    /// Go's <c>time.ParseDuration</c>: <c>[-+]?([0-9]*(\.[0-9]*)?unit)+</c> with units
    /// <c>ns us µs ms s m h</c>. Returns null and Go's error text on failure.
    /// </summary>
    public static GoDuration? TryParseGo(ReadOnlySpan<char> s, out string? error)
    {
        error = null;
        var orig = s;
        var negative = false;
        if (!s.IsEmpty && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s is "0")
        {
            return Zero;
        }

        if (s.IsEmpty)
        {
            error = "time: invalid duration " + GoString.Quote(orig.ToString());
            return null;
        }

        ulong d = 0;
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0])))
            {
                error = "time: invalid duration " + GoString.Quote(orig.ToString());
                return null;
            }

            var pl = s.Length;
            ulong v = 0;
            var i = 0;
            var overflow = false;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                if (v > (1UL << 63) / 10)
                {
                    overflow = true;
                }

                v = (v * 10) + (ulong)(s[i] - '0');
                if (v > 1UL << 63)
                {
                    overflow = true;
                }

                i++;
            }

            if (overflow)
            {
                error = "time: invalid duration " + GoString.Quote(orig.ToString());
                return null;
            }

            s = s[i..];
            var pre = pl != s.Length;
            ulong f = 0;
            double scale = 1;
            var post = false;
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                pl = s.Length;
                i = 0;
                var dropping = false;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    if (!dropping)
                    {
                        if (f > (ulong.MaxValue - 9) / 10)
                        {
                            dropping = true;
                        }
                        else
                        {
                            f = (f * 10) + (ulong)(s[i] - '0');
                            scale *= 10;
                        }
                    }

                    i++;
                }

                s = s[i..];
                post = pl != s.Length;
            }

            if (!pre && !post)
            {
                error = "time: invalid duration " + GoString.Quote(orig.ToString());
                return null;
            }

            i = 0;
            while (i < s.Length && s[i] != '.' && !char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (i == 0)
            {
                error = "time: missing unit in duration " + GoString.Quote(orig.ToString());
                return null;
            }

            var u = s[..i];
            s = s[i..];
            ulong unit = u switch
            {
                "ns" => 1,
                "us" or "µs" or "μs" => (ulong)Microsecond,
                "ms" => (ulong)Millisecond,
                "s" => (ulong)Second,
                "m" => (ulong)Minute,
                "h" => (ulong)Hour,
                _ => 0,
            };
            if (unit == 0)
            {
                error = "time: unknown unit " + GoString.Quote(u.ToString()) + " in duration " + GoString.Quote(orig.ToString());
                return null;
            }

            if (v > (1UL << 63) / unit)
            {
                error = "time: invalid duration " + GoString.Quote(orig.ToString());
                return null;
            }

            v *= unit;
            if (f > 0)
            {
                v += (ulong)((double)f * (unit / scale));
                if (v > 1UL << 63)
                {
                    error = "time: invalid duration " + GoString.Quote(orig.ToString());
                    return null;
                }
            }

            d += v;
            if (d > 1UL << 63)
            {
                error = "time: invalid duration " + GoString.Quote(orig.ToString());
                return null;
            }
        }

        if (negative)
        {
            return new GoDuration(-(long)(d - 1) - 1);
        }

        if (d > long.MaxValue)
        {
            error = "time: invalid duration " + GoString.Quote(orig.ToString());
            return null;
        }

        return new GoDuration((long)d);
    }

    /// <summary>Loki's lexer rule: a Prometheus duration first, then a Go duration.</summary>
    public static GoDuration? TryParseLogQL(ReadOnlySpan<char> s) =>
        TryParsePrometheus(s, out _) ?? TryParseGo(s, out _);
}

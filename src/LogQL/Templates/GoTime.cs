using System.Globalization;
using System.Text;

namespace LokiSharp.LogQL.Templates;

/// <summary>A Go <c>time.Time</c>: an instant (seconds and nanoseconds since the Unix epoch) in a time zone.</summary>
public readonly record struct GoTime(long UnixSeconds, int Nanoseconds, TimeZoneInfo Zone)
{
    private const long ZeroUnixSeconds = -62135596800;

    /// <summary>Go's zero time: January 1, year 1, 00:00:00 UTC.</summary>
    public static GoTime Zero => new(ZeroUnixSeconds, 0, TimeZoneInfo.Utc);

    /// <summary>Whether this is the zero time.</summary>
    public bool IsZero => UnixSeconds == ZeroUnixSeconds && Nanoseconds == 0;

    /// <summary>The instant from Unix nanoseconds, in the server's local zone (as Go's <c>time.Unix</c>).</summary>
    public static GoTime FromUnixNanos(long ns)
    {
        var seconds = Math.DivRem(ns, 1_000_000_000L, out var rem);
        if (rem < 0)
        {
            seconds--;
            rem += 1_000_000_000L;
        }

        return new GoTime(seconds, (int)rem, TimeZoneInfo.Local);
    }

    /// <summary>Unix nanoseconds (wrapping like Go outside the representable range).</summary>
    public long UnixNanos => unchecked((UnixSeconds * 1_000_000_000L) + Nanoseconds);

    /// <summary>Unix milliseconds.</summary>
    public long UnixMillis => (UnixSeconds * 1000) + (Nanoseconds / 1_000_000);

    private DateTime UtcDateTime => DateTime.UnixEpoch.AddSeconds(UnixSeconds).AddTicks(Nanoseconds / 100);

    /// <summary>The wall clock in <see cref="Zone"/> and its UTC offset.</summary>
    public (DateTime Wall, TimeSpan Offset) Local()
    {
        var utc = UtcDateTime;
        var offset = ReferenceEquals(Zone, TimeZoneInfo.Utc) ? TimeSpan.Zero : Zone.GetUtcOffset(utc);
        return (utc + offset, offset);
    }

    /// <summary>Go's <c>Time.String()</c>: <c>2006-01-02 15:04:05.999999999 -0700 MST</c>.</summary>
    public override string ToString() => Format("2006-01-02 15:04:05.999999999 -0700 MST");

    /// <summary>Formats with a Go reference layout (<c>2006-01-02T15:04:05Z07:00</c> and friends).</summary>
    public string Format(string layout)
    {
        var (wall, offset) = Local();
        var sb = new StringBuilder(layout.Length + 10);
        var i = 0;
        while (i < layout.Length)
        {
            var (token, length) = GoLayout.Next(layout, i);
            if (token is null)
            {
                sb.Append(layout[i]);
                i++;
                continue;
            }

            i += length;
            AppendToken(sb, token, wall, offset);
        }

        return sb.ToString();
    }

    private void AppendToken(StringBuilder sb, string token, DateTime wall, TimeSpan offset)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (token)
        {
            case "2006": sb.Append(wall.Year.ToString("D4", inv)); break;
            case "06": sb.Append((wall.Year % 100).ToString("D2", inv)); break;
            case "01": sb.Append(wall.Month.ToString("D2", inv)); break;
            case "1": sb.Append(wall.Month.ToString(inv)); break;
            case "Jan": sb.Append(inv.DateTimeFormat.GetAbbreviatedMonthName(wall.Month)); break;
            case "January": sb.Append(inv.DateTimeFormat.GetMonthName(wall.Month)); break;
            case "02": sb.Append(wall.Day.ToString("D2", inv)); break;
            case "_2": sb.Append(wall.Day.ToString(inv).PadLeft(2)); break;
            case "2": sb.Append(wall.Day.ToString(inv)); break;
            case "002": sb.Append(wall.DayOfYear.ToString("D3", inv)); break;
            case "__2": sb.Append(wall.DayOfYear.ToString(inv).PadLeft(3)); break;
            case "15": sb.Append(wall.Hour.ToString("D2", inv)); break;
            case "03": sb.Append(Hour12(wall.Hour).ToString("D2", inv)); break;
            case "3": sb.Append(Hour12(wall.Hour).ToString(inv)); break;
            case "04": sb.Append(wall.Minute.ToString("D2", inv)); break;
            case "4": sb.Append(wall.Minute.ToString(inv)); break;
            case "05": sb.Append(wall.Second.ToString("D2", inv)); break;
            case "5": sb.Append(wall.Second.ToString(inv)); break;
            case "PM": sb.Append(wall.Hour >= 12 ? "PM" : "AM"); break;
            case "pm": sb.Append(wall.Hour >= 12 ? "pm" : "am"); break;
            case "Mon": sb.Append(inv.DateTimeFormat.GetAbbreviatedDayName(wall.DayOfWeek)); break;
            case "Monday": sb.Append(inv.DateTimeFormat.GetDayName(wall.DayOfWeek)); break;
            case "MST": sb.Append(ZoneAbbreviation(offset)); break;
            case "Z07:00" or "Z0700" or "Z07" or "Z07:00:00" or "-07:00" or "-0700" or "-07" or "-07:00:00":
                if (token[0] == 'Z' && offset == TimeSpan.Zero)
                {
                    sb.Append('Z');
                    break;
                }

                sb.Append(offset < TimeSpan.Zero ? '-' : '+');
                var abs = offset.Duration();
                sb.Append(abs.Hours.ToString("D2", inv));
                if (token.EndsWith("07:00", StringComparison.Ordinal) || token.EndsWith("07:00:00", StringComparison.Ordinal))
                {
                    sb.Append(':').Append(abs.Minutes.ToString("D2", inv));
                }
                else if (token.EndsWith("0700", StringComparison.Ordinal))
                {
                    sb.Append(abs.Minutes.ToString("D2", inv));
                }

                if (token.EndsWith(":00:00", StringComparison.Ordinal))
                {
                    sb.Append(':').Append(abs.Seconds.ToString("D2", inv));
                }

                break;
            default:
                // Fractional seconds: ".000" keeps zeros, ".999" trims them (and the dot when nothing is left).
                var digits = token.Length - 1;
                var fraction = Nanoseconds.ToString("D9", inv)[..Math.Min(9, digits)];
                if (token[1] == '9')
                {
                    fraction = fraction.TrimEnd('0');
                    if (fraction.Length == 0)
                    {
                        break;
                    }
                }

                sb.Append(token[0]).Append(fraction);
                break;
        }
    }

    private string ZoneAbbreviation(TimeSpan offset)
    {
        if (offset == TimeSpan.Zero && (ReferenceEquals(Zone, TimeZoneInfo.Utc) || Zone.Id is "UTC" or "Etc/UTC" || Zone.BaseUtcOffset == TimeSpan.Zero))
        {
            return "UTC";
        }

        // .NET does not expose zone abbreviations; Go falls back to the numeric offset in the same way.
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        return abs.Minutes == 0
            ? sign + abs.Hours.ToString("D2", CultureInfo.InvariantCulture)
            : sign + abs.Hours.ToString("D2", CultureInfo.InvariantCulture) + abs.Minutes.ToString("D2", CultureInfo.InvariantCulture);
    }

    private static int Hour12(int hour) => hour % 12 == 0 ? 12 : hour % 12;

    /// <summary>Go's <c>time.ParseInLocation</c> for common layouts; null when the text does not fit.</summary>
    public static GoTime? Parse(string layout, string value, TimeZoneInfo zone)
    {
        int year = 1, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0;
        var pm = false;
        var hasPm = false;
        TimeSpan? offset = null;
        var v = 0;
        var i = 0;
        while (i < layout.Length)
        {
            var (token, length) = GoLayout.Next(layout, i);
            if (token is null)
            {
                if (v >= value.Length || value[v] != layout[i])
                {
                    return null;
                }

                v++;
                i++;
                continue;
            }

            i += length;
            int n;
            switch (token)
            {
                case "2006":
                    if (!Digits(value, ref v, 4, 4, out year))
                    {
                        return null;
                    }

                    break;
                case "06":
                    if (!Digits(value, ref v, 2, 2, out n))
                    {
                        return null;
                    }

                    year = n >= 69 ? 1900 + n : 2000 + n;
                    break;
                case "01" or "02" or "15" or "03" or "04" or "05":
                case "1" or "2" or "3" or "4" or "5" or "_2":
                    if (token == "_2" && v < value.Length && value[v] == ' ')
                    {
                        v++;
                    }

                    var fixedWidth = token.Length == 2 && token[0] != '_';
                    if (!Digits(value, ref v, fixedWidth ? 2 : 1, 2, out n))
                    {
                        return null;
                    }

                    switch (token)
                    {
                        case "01" or "1": month = n; break;
                        case "02" or "2" or "_2": day = n; break;
                        case "15": hour = n; break;
                        case "03" or "3": hour = n; break;
                        case "04" or "4": minute = n; break;
                        default: second = n; break;
                    }

                    // Go accepts fractional seconds after a seconds field even when the layout has none.
                    if (token is "05" or "5" && v + 1 < value.Length && value[v] is '.' or ',' && char.IsAsciiDigit(value[v + 1]) &&
                        (i >= layout.Length || layout[i] != value[v]))
                    {
                        v++;
                        var start = v;
                        while (v < value.Length && char.IsAsciiDigit(value[v]))
                        {
                            v++;
                        }

                        nanos = FractionToNanos(value[start..v]);
                    }

                    break;
                case "Jan" or "January":
                    {
                        var found = false;
                        for (var m = 1; m <= 12; m++)
                        {
                            var name = token == "Jan"
                                ? CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedMonthName(m)
                                : CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(m);
                            if (string.Compare(value, v, name, 0, name.Length, StringComparison.OrdinalIgnoreCase) == 0)
                            {
                                month = m;
                                v += name.Length;
                                found = true;
                                break;
                            }
                        }

                        if (!found)
                        {
                            return null;
                        }

                        break;
                    }

                case "Mon" or "Monday":
                    {
                        var found = false;
                        for (var d = 0; d < 7; d++)
                        {
                            var name = token == "Mon"
                                ? CultureInfo.InvariantCulture.DateTimeFormat.GetAbbreviatedDayName((DayOfWeek)d)
                                : CultureInfo.InvariantCulture.DateTimeFormat.GetDayName((DayOfWeek)d);
                            if (string.Compare(value, v, name, 0, name.Length, StringComparison.OrdinalIgnoreCase) == 0)
                            {
                                v += name.Length;
                                found = true;
                                break;
                            }
                        }

                        if (!found)
                        {
                            return null;
                        }

                        break;
                    }

                case "PM" or "pm":
                    if (v + 2 > value.Length)
                    {
                        return null;
                    }

                    var ampm = value.Substring(v, 2).ToUpperInvariant();
                    if (ampm is not ("AM" or "PM"))
                    {
                        return null;
                    }

                    hasPm = true;
                    pm = ampm == "PM";
                    v += 2;
                    break;
                case "MST":
                    {
                        var start = v;
                        while (v < value.Length && char.IsAsciiLetterUpper(value[v]))
                        {
                            v++;
                        }

                        if (v - start < 3)
                        {
                            return null;
                        }

                        if (value[start..v] is "UTC" or "GMT")
                        {
                            offset = TimeSpan.Zero;
                        }

                        break;
                    }

                default:
                    if (token[0] is 'Z' or '-')
                    {
                        if (token[0] == 'Z' && v < value.Length && value[v] == 'Z')
                        {
                            v++;
                            offset = TimeSpan.Zero;
                            break;
                        }

                        if (v >= value.Length || value[v] is not ('+' or '-'))
                        {
                            return null;
                        }

                        var negative = value[v] == '-';
                        v++;
                        if (!Digits(value, ref v, 2, 2, out var oh))
                        {
                            return null;
                        }

                        var om = 0;
                        if (token.Contains(':', StringComparison.Ordinal))
                        {
                            if (v >= value.Length || value[v] != ':')
                            {
                                return null;
                            }

                            v++;
                        }

                        if (token.EndsWith("00", StringComparison.Ordinal) && !Digits(value, ref v, 2, 2, out om))
                        {
                            return null;
                        }

                        var span = new TimeSpan(oh, om, 0);
                        offset = negative ? -span : span;
                        break;
                    }

                    // Fractional seconds.
                    if (v >= value.Length || value[v] != token[0])
                    {
                        if (token[1] == '9')
                        {
                            break;
                        }

                        return null;
                    }

                    v++;
                    var fs = v;
                    while (v < value.Length && char.IsAsciiDigit(value[v]))
                    {
                        v++;
                    }

                    nanos = FractionToNanos(value[fs..v]);
                    break;
            }
        }

        if (v != value.Length || month is < 1 or > 12 || hour > 23 || minute > 59 || second > 59)
        {
            return null;
        }

        if (hasPm)
        {
            if (hour > 12)
            {
                return null;
            }

            hour = pm ? (hour % 12) + 12 : hour % 12;
        }

        if (day < 1 || day > DateTime.DaysInMonth(Math.Clamp(year, 1, 9999), month))
        {
            return null;
        }

        var wall = new DateTime(Math.Clamp(year, 1, 9999), month, day, hour, minute, second, DateTimeKind.Unspecified);
        var utcOffset = offset ?? zone.GetUtcOffset(wall);
        var seconds = (long)(wall - DateTime.UnixEpoch).TotalSeconds - (long)utcOffset.TotalSeconds;
        var resultZone = offset is { } o && o != zone.GetUtcOffset(wall) ? TimeZoneInfo.CreateCustomTimeZone("fixed", o, "fixed", "fixed") : zone;
        return new GoTime(seconds, nanos, resultZone);
    }

    private static int FractionToNanos(string digits)
    {
        var d = digits.Length > 9 ? digits[..9] : digits.PadRight(9, '0');
        return int.Parse(d, CultureInfo.InvariantCulture);
    }

    private static bool Digits(string s, ref int v, int min, int max, out int value)
    {
        value = 0;
        var start = v;
        while (v < s.Length && v - start < max && char.IsAsciiDigit(s[v]))
        {
            value = (value * 10) + (s[v] - '0');
            v++;
        }

        return v - start >= min;
    }
}

/// <summary>Tokenises Go reference-time layouts.</summary>
internal static class GoLayout
{
    private static readonly string[] Tokens =
    [
        "January", "Monday", "2006", "Z07:00:00", "-07:00:00", "Z07:00", "-07:00", "Z0700", "-0700", "Jan", "Mon", "MST", "002", "__2", "Z07", "-07",
        "01", "02", "03", "04", "05", "06", "15", "_2", "PM", "pm", "1", "2", "3", "4", "5",
    ];

    /// <summary>The layout token at <paramref name="i"/> and its length, or null for a literal character.</summary>
    public static (string? Token, int Length) Next(string layout, int i)
    {
        if (layout[i] is '.' or ',' && i + 1 < layout.Length && layout[i + 1] is '0' or '9')
        {
            var c = layout[i + 1];
            var j = i + 1;
            while (j < layout.Length && layout[j] == c)
            {
                j++;
            }

            // Only a fraction when not followed by another digit (e.g. ".000" but not ".0001").
            if (j >= layout.Length || !char.IsAsciiDigit(layout[j]))
            {
                return (layout[i] + new string(c, j - i - 1), j - i);
            }
        }

        foreach (var token in Tokens)
        {
            if (string.CompareOrdinal(layout, i, token, 0, token.Length) == 0)
            {
                // "Jan"/"Mon" must not be the start of a longer lower-case word ("Janet", "Month").
                if (token is "Jan" or "Mon" && i + 3 < layout.Length && char.IsAsciiLetterLower(layout[i + 3]))
                {
                    continue;
                }

                return (token, token.Length);
            }
        }

        return (null, 1);
    }
}

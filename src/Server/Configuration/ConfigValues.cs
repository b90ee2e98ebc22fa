using System.Globalization;
using System.Text;

namespace LokiSharp.Server.Configuration;

/// <summary>A size in bytes as Loki's config writes it (<c>256KB</c>, <c>1MB</c>, <c>1GiB</c>, or a plain number).</summary>
public readonly record struct ByteSize(long Bytes)
{
    private static readonly (string Suffix, long Multiplier)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40), ("PiB", 1L << 50),
        ("KB", 1L << 10), ("MB", 1L << 20), ("GB", 1L << 30), ("TB", 1L << 40), ("PB", 1L << 50),
        ("B", 1),
    ];

    /// <summary>Parses a size; like Loki's <c>flagext.ByteSize</c>, both KB and KiB mean 1024 bytes.</summary>
    public static bool TryParse(string text, out ByteSize size)
    {
        size = default;
        var s = text.Trim();
        if (long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var plain))
        {
            size = new ByteSize(plain);
            return true;
        }

        long total = 0;
        var rest = s.AsSpan();
        if (rest.IsEmpty)
        {
            return false;
        }

        // Go's units.ParseBase2Bytes accepts compound values such as "1GB512MB".
        while (!rest.IsEmpty)
        {
            var digits = 0;
            while (digits < rest.Length && (char.IsAsciiDigit(rest[digits]) || rest[digits] == '.'))
            {
                digits++;
            }

            if (digits == 0 || !double.TryParse(rest[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            rest = rest[digits..];
            var matched = false;
            foreach (var (suffix, multiplier) in Units)
            {
                if (rest.StartsWith(suffix, StringComparison.Ordinal))
                {
                    total += (long)(number * multiplier);
                    rest = rest[suffix.Length..];
                    matched = true;
                    break;
                }
            }

            if (!matched)
            {
                return false;
            }
        }

        size = new ByteSize(total);
        return true;
    }

    /// <summary>The largest exact unit, as Loki prints sizes (<c>256KB</c>, <c>3MB</c>, <c>0B</c>).</summary>
    public override string ToString()
    {
        if (Bytes == 0)
        {
            return "0B";
        }

        string[] names = ["PB", "TB", "GB", "MB", "KB"];
        long[] factors = [1L << 50, 1L << 40, 1L << 30, 1L << 20, 1L << 10];
        for (var i = 0; i < names.Length; i++)
        {
            if (Bytes % factors[i] == 0)
            {
                return (Bytes / factors[i]).ToString(CultureInfo.InvariantCulture) + names[i];
            }
        }

        return Bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }
}

/// <summary>Parses and prints durations as Go (<c>1h30m</c>, <c>250ms</c>) and Prometheus (<c>1d</c>, <c>1w</c>) write them.</summary>
public static class GoDuration
{
    /// <summary>Parses a duration with units ns, us, µs, ms, s, m, h, d, w, y; a bare 0 is zero.</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var s = text.Trim().AsSpan();
        if (s.IsEmpty)
        {
            return false;
        }

        var negative = false;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s is "0")
        {
            return true;
        }

        decimal totalTicks = 0;
        while (!s.IsEmpty)
        {
            var digits = 0;
            while (digits < s.Length && (char.IsAsciiDigit(s[digits]) || s[digits] == '.'))
            {
                digits++;
            }

            if (digits == 0 || !decimal.TryParse(s[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            s = s[digits..];
            var unitLength = 0;
            while (unitLength < s.Length && !char.IsAsciiDigit(s[unitLength]) && s[unitLength] != '.')
            {
                unitLength++;
            }

            decimal ticksPerUnit = s[..unitLength] switch
            {
                "ns" => 0.01m,
                "us" or "µs" or "μs" => 10m,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                "d" => TimeSpan.TicksPerDay,
                "w" => TimeSpan.TicksPerDay * 7,
                "y" => TimeSpan.TicksPerDay * 365,
                _ => -1m,
            };
            if (ticksPerUnit < 0)
            {
                return false;
            }

            totalTicks += number * ticksPerUnit;
            s = s[unitLength..];
        }

        if (totalTicks > TimeSpan.MaxValue.Ticks)
        {
            return false;
        }

        value = TimeSpan.FromTicks((long)(negative ? -totalTicks : totalTicks));
        return true;
    }

    /// <summary>Formats as Go's <c>time.Duration.String()</c>: <c>744h0m0s</c>, <c>10m0s</c>, <c>250ms</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var sb = new StringBuilder();
        if (value < TimeSpan.Zero)
        {
            sb.Append('-');
            value = value.Duration();
        }

        if (value < TimeSpan.FromSeconds(1))
        {
            var ms = value.TotalMilliseconds;
            if (ms >= 1)
            {
                return sb.Append(ms.ToString("0.######", CultureInfo.InvariantCulture)).Append("ms").ToString();
            }

            return sb.Append((value.Ticks / 10.0).ToString("0.###", CultureInfo.InvariantCulture)).Append("µs").ToString();
        }

        var hours = (long)value.TotalHours;
        if (hours > 0)
        {
            sb.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (hours > 0 || value.Minutes > 0)
        {
            sb.Append(value.Minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        var seconds = value.Seconds + (value.Ticks % TimeSpan.TicksPerSecond / (double)TimeSpan.TicksPerSecond);
        sb.Append(seconds.ToString("0.#########", CultureInfo.InvariantCulture)).Append('s');
        return sb.ToString();
    }
}

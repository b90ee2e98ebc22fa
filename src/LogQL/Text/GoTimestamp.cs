using System.Globalization;

namespace LokiSharp.LogQL.Text;

/// <summary>
/// Unix-nanosecond timestamps in the text forms Loki's Go code reads and writes: RFC3339 with any fraction
/// (parsed exactly to the nanosecond), <c>time.RFC3339</c>, <c>time.RFC3339Nano</c> and <c>time.Time.String()</c>, in UTC.
/// </summary>
public static class GoTimestamp
{
    /// <summary>Parses RFC3339 with an optional fraction of up to 9 digits and a <c>Z</c> or numeric offset.</summary>
    public static bool TryParseRfc3339(string text, out long unixNanos)
    {
        unixNanos = 0;

        // .NET parses (and rounds) fractions to 100 ns ticks, so the fraction is cut off and added back exactly.
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var end = dot + 1;
        while (dot >= 0 && end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        var whole = dot >= 0 ? text[..dot] + text[end..] : text;
        if (!DateTimeOffset.TryParseExact(whole, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss'Z'"], CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal, out var time))
        {
            return false;
        }

        long fraction = 0;
        if (dot >= 0 && end > dot + 1)
        {
            var digits = text.AsSpan(dot + 1, Math.Min(end - dot - 1, 9));
            fraction = long.Parse(digits, CultureInfo.InvariantCulture);
            for (var i = digits.Length; i < 9; i++)
            {
                fraction *= 10;
            }
        }

        unixNanos = ((time.UtcTicks - DateTime.UnixEpoch.Ticks) * 100) + fraction;
        return true;
    }

    /// <summary>Go's <c>time.RFC3339</c> in UTC: whole seconds, <c>Z</c>.</summary>
    public static string FormatRfc3339(long unixNanos) => Seconds(unixNanos, out _).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Go's <c>time.RFC3339Nano</c> in UTC: the fraction's trailing zeros dropped.</summary>
    public static string FormatRfc3339Nano(long unixNanos)
    {
        var text = Seconds(unixNanos, out var nanos).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        return nanos == 0 ? text + "Z" : text + "." + nanos.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0') + "Z";
    }

    /// <summary>Go's <c>time.Time.String()</c> in UTC: <c>2006-01-02 15:04:05.999999999 +0000 UTC</c>.</summary>
    public static string FormatGoString(long unixNanos)
    {
        var text = Seconds(unixNanos, out var nanos).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        if (nanos > 0)
        {
            text += "." + nanos.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
        }

        return text + " +0000 UTC";
    }

    private static DateTime Seconds(long unixNanos, out long nanos)
    {
        var seconds = Math.DivRem(unixNanos, 1_000_000_000L, out nanos);
        if (nanos < 0)
        {
            seconds--;
            nanos += 1_000_000_000L;
        }

        return DateTime.UnixEpoch.AddSeconds(seconds);
    }
}

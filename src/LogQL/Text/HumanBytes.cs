using System.Globalization;

namespace LokiSharp.LogQL.Text;

/// <summary>Humanised byte sizes as go-humanize parses and prints them (<c>250kB</c>, <c>1.5MiB</c>, <c>2.6kB</c>).</summary>
public static class HumanBytes
{
    /// <summary>Parses <c>10MB</c>, <c>1.5 KiB</c>, <c>42</c>...; returns false with an error text on failure.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out ulong bytes, out string? error)
    {
        bytes = 0;
        error = null;
        var lastDigit = 0;
        var hasComma = false;
        foreach (var c in s)
        {
            if (!(char.IsDigit(c) || c == '.' || c == ','))
            {
                break;
            }

            hasComma |= c == ',';
            lastDigit++;
        }

        var num = s[..lastDigit].ToString();
        if (hasComma)
        {
            num = num.Replace(",", string.Empty, StringComparison.Ordinal);
        }

        if (!GoFloat.TryParse(num, out var f, out error))
        {
            return false;
        }

        var extra = s[lastDigit..].Trim().ToString().ToLowerInvariant();
        ulong multiplier = extra switch
        {
            "b" or "" => 1,
            "kib" or "ki" => 1UL << 10,
            "kb" or "k" => 1000,
            "mib" or "mi" => 1UL << 20,
            "mb" or "m" => 1000 * 1000,
            "gib" or "gi" => 1UL << 30,
            "gb" or "g" => 1000UL * 1000 * 1000,
            "tib" or "ti" => 1UL << 40,
            "tb" or "t" => 1000UL * 1000 * 1000 * 1000,
            "pib" or "pi" => 1UL << 50,
            "pb" or "p" => 1000UL * 1000 * 1000 * 1000 * 1000,
            "eib" or "ei" => 1UL << 60,
            "eb" or "e" => 1000UL * 1000 * 1000 * 1000 * 1000 * 1000,
            _ => 0,
        };
        if (multiplier == 0)
        {
            error = "unhandled size name: " + extra;
            return false;
        }

        f *= multiplier;
        if (f >= ulong.MaxValue)
        {
            error = "too large: " + s.ToString();
            return false;
        }

        bytes = (ulong)f;
        return true;
    }

    /// <summary>go-humanize <c>Bytes</c> without the space: <c>42B</c>, <c>2.6kB</c>, <c>20kB</c>, <c>1.0MB</c>.</summary>
    public static string Format(ulong size)
    {
        if (size < 10)
        {
            return size.ToString(CultureInfo.InvariantCulture) + "B";
        }

        string[] sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
        var e = Math.Floor(Math.Log(size) / Math.Log(1000));
        var suffix = sizes[(int)e];
        var val = Math.Floor((size / Math.Pow(1000, e) * 10) + 0.5) / 10;
        var text = val < 10
            ? val.ToString("F1", CultureInfo.InvariantCulture)
            : Math.Round(val, MidpointRounding.ToEven).ToString("F0", CultureInfo.InvariantCulture);
        return text + suffix;
    }
}

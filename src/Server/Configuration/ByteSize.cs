using System.Globalization;

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

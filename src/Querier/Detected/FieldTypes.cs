using System.Globalization;
using LokiSharp.LogQL.Text;

namespace LokiSharp.Querier.Detected;

/// <summary>Loki's detected field type of a value: the first of int, float, boolean, duration, bytes that parses, else string.</summary>
public static class FieldTypes
{
    /// <summary>The type name Loki reports for <paramref name="value"/>.</summary>
    public static string Detect(string value)
    {
        if (IsGoInt(value))
        {
            return "int";
        }

        if (GoFloat.TryParse(value, out _, out _))
        {
            return "float";
        }

        if (value is "1" or "t" or "T" or "TRUE" or "true" or "True" or "0" or "f" or "F" or "FALSE" or "false" or "False")
        {
            return "boolean";
        }

        if (GoDuration.TryParseGo(value, out _) is not null)
        {
            return "duration";
        }

        return HumanBytes.TryParse(value, out _, out _) ? "bytes" : "string";
    }

    /// <summary>
    /// How <c>detected_field/{name}/values</c> reports a parsed value: byte sizes with a unit are normalised to
    /// go-humanize's SI form (<c>1536KiB</c> -> <c>1.6MB</c>), everything else as is.
    /// </summary>
    public static string NormaliseValue(string value)
    {
        if (HumanBytes.TryParse(value, out var bytes, out _) && HasByteUnit(value))
        {
            return HumanBytes.Format(bytes);
        }

        return value;
    }

    // Go's strconv.ParseInt(s, 10, 64): an optional sign and decimal digits that fit 64 bits.
    private static bool IsGoInt(string value)
    {
        var digits = value.AsSpan();
        if (digits.Length > 0 && digits[0] is '+' or '-')
        {
            digits = digits[1..];
        }

        return digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9')
            && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
    }

    // Loki keeps a value as is unless it ends with one of go-humanize's units (so a bare number stays a number).
    private static bool HasByteUnit(string value)
    {
        var lower = value.ToLowerInvariant();
        foreach (var unit in (string[])["b", "kib", "kb", "mib", "mb", "gib", "gb", "tib", "tb", "pib", "pb", "eib", "eb",
            "ki", "k", "mi", "m", "gi", "g", "ti", "t", "pi", "p", "ei", "e"])
        {
            if (lower.EndsWith(unit, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

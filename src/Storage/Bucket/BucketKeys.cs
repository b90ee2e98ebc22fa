using System.Globalization;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Bucket;

/// <summary>
/// The object keys of the bucket layout (docs/formats/bucket.md): packs and index segments per writer and
/// sequence, generations per number and compactor epoch. Tenants are encoded as their directory names.
/// </summary>
internal static class BucketKeys
{
    public const string SegmentSuffix = ".seg";
    public const string GenerationSuffix = ".idx";
    private const int HexDigits = 16;
    private const int GenerationDigits = 8;

    /// <summary>The key of a writer's pack.</summary>
    public static string Pack(string tenant, string writer, long packId) =>
        $"{TenantPaths.Encode(tenant)}/packs/{writer}/{Hex(packId)}{PackFiles.Suffix}";

    /// <summary>The prefix every pack key of a tenant starts with.</summary>
    public static string PacksPrefix(string tenant) => $"{TenantPaths.Encode(tenant)}/packs/";

    /// <summary>Parses a pack name <c>&lt;writer&gt;/&lt;packId:16 hex&gt;</c> (a key after <see cref="PacksPrefix"/>, without the suffix).</summary>
    public static bool TryParsePackName(ReadOnlySpan<char> name, out string writer, out long packId)
    {
        writer = string.Empty;
        packId = 0;
        var slash = name.IndexOf('/');
        if (slash <= 0 || name.Length - slash - 1 != HexDigits || !TryParseHex(name[(slash + 1)..], out packId))
        {
            return false;
        }

        writer = name[..slash].ToString();
        return WriterName.Problem(writer, allowReserved: true) is null;
    }

    /// <summary>The name of a writer's pack as the compactor's marks keep it: <c>&lt;writer&gt;/&lt;packId:16 hex&gt;</c>.</summary>
    public static string PackName(string writer, long packId) => $"{writer}/{Hex(packId)}";

    /// <summary>The prefix every segment key of a table starts with.</summary>
    public static string SegmentsPrefix(string tenant, string table) => $"{TablePrefix(tenant, table)}segments/";

    /// <summary>The key of a writer's segment of a table.</summary>
    public static string Segment(string tenant, string table, string writer, long seq) =>
        $"{SegmentsPrefix(tenant, table)}{writer}/{Hex(seq)}{SegmentSuffix}";

    /// <summary>The prefix every generation key of a table starts with.</summary>
    public static string GenerationsPrefix(string tenant, string table) => $"{TablePrefix(tenant, table)}generations/";

    /// <summary>The key of a table's generation <paramref name="number"/> written by compactor <paramref name="epoch"/>.</summary>
    public static string Generation(string tenant, string table, int number, long epoch) =>
        $"{GenerationsPrefix(tenant, table)}{number.ToString("D" + GenerationDigits, CultureInfo.InvariantCulture)}-{Hex(epoch)}{GenerationSuffix}";

    /// <summary>Parses a key listed under <see cref="SegmentsPrefix"/> into its writer and sequence.</summary>
    public static bool TryParseSegment(string key, string prefix, out string writer, out long seq)
    {
        writer = string.Empty;
        seq = 0;
        if (!key.StartsWith(prefix, StringComparison.Ordinal) || !key.EndsWith(SegmentSuffix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key.AsSpan(prefix.Length, key.Length - prefix.Length - SegmentSuffix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || rest.Length - slash - 1 != HexDigits || !TryParseHex(rest[(slash + 1)..], out seq))
        {
            return false;
        }

        writer = rest[..slash].ToString();
        return WriterName.Problem(writer, allowReserved: true) is null;
    }

    /// <summary>Parses a key listed under <see cref="GenerationsPrefix"/> into its number and epoch.</summary>
    public static bool TryParseGeneration(string key, string prefix, out int number, out long epoch)
    {
        number = 0;
        epoch = 0;
        if (!key.StartsWith(prefix, StringComparison.Ordinal) || !key.EndsWith(GenerationSuffix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key.AsSpan(prefix.Length, key.Length - prefix.Length - GenerationSuffix.Length);
        return rest.Length == GenerationDigits + 1 + HexDigits && rest[GenerationDigits] == '-' &&
               int.TryParse(rest[..GenerationDigits], NumberStyles.None, CultureInfo.InvariantCulture, out number) &&
               TryParseHex(rest[(GenerationDigits + 1)..], out epoch);
    }

    private static string TablePrefix(string tenant, string table) => $"{TenantPaths.Encode(tenant)}/index/{table}/";

    // 16 lower-case hex digits: ordinal key order is numeric order for non-negative values.
    private static string Hex(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return value.ToString("x16", CultureInfo.InvariantCulture);
    }

    private static bool TryParseHex(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return long.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && value >= 0;
    }
}

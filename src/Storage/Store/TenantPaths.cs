using System.Text;

namespace LokiSharp.Storage.Store;

/// <summary>Tenant ids as directory names: Loki's allowed characters kept, anything else %-escaped.</summary>
internal static class TenantPaths
{
    public static string Encode(string tenant)
    {
        var sb = new StringBuilder(tenant.Length);
        foreach (var b in Encoding.UTF8.GetBytes(tenant))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '!' or '*' or '\'' or '(' or ')' ||
                (c == '.' && tenant != "." && tenant != ".."))
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    public static bool TryDecode(string name, out string tenant)
    {
        tenant = string.Empty;
        var bytes = new List<byte>(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] == '%')
            {
                if (i + 2 >= name.Length || !byte.TryParse(name.AsSpan(i + 1, 2),
                        System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture,
                        out var b))
                {
                    return false;
                }

                bytes.Add(b);
                i += 2;
            }
            else if (name[i] > 127)
            {
                return false;
            }
            else
            {
                bytes.Add((byte)name[i]);
            }
        }

        tenant = Encoding.UTF8.GetString([.. bytes]);
        return tenant.Length > 0 && Encode(tenant) == name;
    }
}

using System.Net;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>An IP address, CIDR prefix or address range, as <c>ip("...")</c> accepts.</summary>
internal sealed class IpPattern
{
    private readonly IPAddress? _single;
    private readonly IPNetwork? _network;
    private readonly (UInt128 Low, UInt128 High, bool V4)? _range;

    private IpPattern(IPAddress? single, IPNetwork? network, (UInt128, UInt128, bool)? range)
    {
        _single = single;
        _network = network;
        _range = range;
    }

    public static IpPattern? TryParse(string pattern)
    {
        if (TryParseAddress(pattern.AsSpan(), out var address))
        {
            return new IpPattern(address, null, null);
        }

        if (pattern.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(pattern, out var network)
            && TryParseAddress(pattern.AsSpan(0, pattern.IndexOf('/', StringComparison.Ordinal)), out _))
        {
            return new IpPattern(null, network, null);
        }

        var dash = pattern.IndexOf('-', StringComparison.Ordinal);
        if (dash > 0 && TryParseAddress(pattern.AsSpan(0, dash), out var low) && TryParseAddress(pattern.AsSpan(dash + 1), out var high) &&
            low.AddressFamily == high.AddressFamily)
        {
            var lo = ToNumber(low);
            var hi = ToNumber(high);
            if (lo <= hi)
            {
                return new IpPattern(null, null, (lo, hi, low.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork));
            }
        }

        return null;
    }

    public bool Contains(IPAddress address)
    {
        if (_single is not null)
        {
            return _single.Equals(address);
        }

        if (_network is { } network)
        {
            return network.Contains(address);
        }

        var (low, high, v4) = _range!.Value;
        if (v4 != (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork))
        {
            return false;
        }

        var n = ToNumber(address);
        return n >= low && n <= high;
    }

    /// <summary>Whether any address found in <paramref name="text"/> lies in the pattern (Loki's scanning rules).</summary>
    public bool MatchesAnyIn(ReadOnlySpan<byte> text)
    {
        var n = text.Length;
        for (var i = 0; i < n; i++)
        {
            if (i + 3 < n && char.IsAsciiDigit((char)text[i]) && (text[i + 1] == '.' || text[i + 2] == '.' || text[i + 3] == '.'))
            {
                var len = SpanOf(text[i..], v6: false);
                if (TryParseAddress(text.Slice(i, len), out var ip) && Contains(ip))
                {
                    return true;
                }

                i += len;
                continue;
            }

            if (Ipv6Hint(text, i))
            {
                var len = SpanOf(text[i..], v6: true);
                if (TryParseAddress(text.Slice(i, len), out var ip) && Contains(ip))
                {
                    return true;
                }

                i += len;
            }
        }

        return false;
    }

    private static bool Ipv6Hint(ReadOnlySpan<byte> t, int i)
    {
        byte At(ReadOnlySpan<byte> s, int k) => k < s.Length ? s[k] : (byte)0;
        var b0 = At(t, i);
        var b1 = At(t, i + 1);
        var b2 = At(t, i + 2);
        var b3 = At(t, i + 3);
        var b4 = At(t, i + 4);
        return (b0 == ':' && b1 == ':' && IsHex(b2)) ||
               (IsHex(b0) && b1 == ':') ||
               (IsHex(b0) && IsHex(b1) && b2 == ':') ||
               (IsHex(b0) && IsHex(b1) && IsHex(b2) && b3 == ':') ||
               (IsHex(b0) && IsHex(b1) && IsHex(b2) && IsHex(b3) && b4 == ':');
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static int SpanOf(ReadOnlySpan<byte> s, bool v6)
    {
        var i = 0;
        while (i < s.Length && (char.IsAsciiDigit((char)s[i]) || s[i] == '.' || (v6 && (IsHex(s[i]) || s[i] == ':'))))
        {
            i++;
        }

        return i;
    }

    // Go's netip.ParseAddr: dotted quads without leading zeros, IPv6 with optional zone; no brackets or ports.
    private static bool TryParseAddress(ReadOnlySpan<byte> text, out IPAddress address)
    {
        Span<char> chars = stackalloc char[64];
        if (text.Length > chars.Length)
        {
            address = IPAddress.None;
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            chars[i] = (char)text[i];
        }

        return TryParseAddress(chars[..text.Length], out address);
    }

    private static bool TryParseAddress(ReadOnlySpan<char> text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.IsEmpty || text.Contains('[') || text.Contains('%'))
        {
            return false;
        }

        if (!text.Contains(':'))
        {
            var parts = 0;
            foreach (var range in text.Split('.'))
            {
                var part = text[range];
                if (part.IsEmpty || part.Length > 3 || (part.Length > 1 && part[0] == '0') || !int.TryParse(part, out var v) || v > 255)
                {
                    return false;
                }

                parts++;
            }

            if (parts != 4)
            {
                return false;
            }
        }

        if (!IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }

        address = parsed;
        return true;
    }

    private static UInt128 ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        UInt128 n = 0;
        for (var i = 0; i < written; i++)
        {
            n = (n << 8) | bytes[i];
        }

        return n;
    }
}

using System.Buffers;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>A compiled test on a log line's bytes; used for line filters and, on label values, for label filters.</summary>
public abstract class LineMatcher
{
    /// <summary>Whether the line passes.</summary>
    public abstract bool Matches(ReadOnlySpan<byte> line);

    /// <summary>Matches everything.</summary>
    public static LineMatcher True { get; } = new TrueMatcher();

    private sealed class TrueMatcher : LineMatcher
    {
        public override bool Matches(ReadOnlySpan<byte> line) => true;
    }
}

/// <summary>Lines that are not empty (the simplification of <c>.+</c>).</summary>
internal sealed class NonEmptyMatcher : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) => !line.IsEmpty;
}

/// <summary>Case-sensitive substring search, vectorised by <see cref="MemoryExtensions.IndexOf{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>.</summary>
internal sealed class ContainsMatcher(byte[] literal) : LineMatcher
{
    public byte[] Literal { get; } = literal;

    public override bool Matches(ReadOnlySpan<byte> line) => line.IndexOf(Literal) >= 0;
}

/// <summary>ASCII case-insensitive substring search (see <see cref="IgnoreCaseLiteral"/>).</summary>
internal sealed class ContainsIgnoreCaseMatcher(byte[] asciiLiteral) : LineMatcher
{
    public IgnoreCaseLiteral Literal { get; } = new(asciiLiteral);

    public override bool Matches(ReadOnlySpan<byte> line) => Literal.IsFoundIn(line);
}

/// <summary>
/// An ASCII fast path that is exact only on ASCII input (e.g. a case-insensitive literal with k or s, which RE2 also
/// folds to U+212A and U+017F): lines holding any other byte go to the full matcher.
/// </summary>
internal sealed class AsciiFastPathMatcher(LineMatcher ascii, LineMatcher full) : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) => Ascii.IsValid(line) ? ascii.Matches(line) : full.Matches(line);
}

/// <summary>Whole-value equality, optionally ASCII case-insensitive (label filters' literal regexes).</summary>
internal sealed class EqualsMatcher(byte[] literal, bool ignoreCase) : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) =>
        ignoreCase ? line.Length == literal.Length && Ascii.EqualsIgnoreCase(line, literal) : line.SequenceEqual(literal);
}

/// <summary>Matches when any operand matches.</summary>
internal sealed class AnyMatcher(LineMatcher[] operands) : LineMatcher
{
    public LineMatcher[] Operands { get; } = operands;

    public override bool Matches(ReadOnlySpan<byte> line)
    {
        foreach (var operand in Operands)
        {
            if (operand.Matches(line))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Negation.</summary>
internal sealed class NotMatcher(LineMatcher inner) : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) => !inner.Matches(line);
}

/// <summary>
/// A regex on the linear-time engine. The UTF-8 line is decoded into a reusable buffer (invalid bytes become
/// U+FFFD, as RE2 sees them), so matching allocates nothing.
/// </summary>
internal sealed class RegexMatcher(Regex regex) : LineMatcher
{
    private char[] _buffer = new char[512];

    public Regex Regex { get; } = regex;

    public override bool Matches(ReadOnlySpan<byte> line)
    {
        if (_buffer.Length < line.Length)
        {
            _buffer = new char[Math.Max(line.Length, _buffer.Length * 2)];
        }

        var n = Encoding.UTF8.GetChars(line, _buffer);
        return Regex.IsMatch(_buffer.AsSpan(0, n));
    }
}

/// <summary>
/// <c>|&gt; "pattern"</c>: literals found left to right, each <c>&lt;_&gt;</c> covering at least one byte, the end
/// anchored; an empty pattern matches only empty lines.
/// </summary>
internal sealed class PatternMatcher : LineMatcher
{
    private readonly byte[]?[] _nodes;

    public PatternMatcher(byte[]?[] nodes) => _nodes = nodes;

    /// <summary>The literals of the pattern, in order.</summary>
    public IEnumerable<byte[]> Literals => _nodes.OfType<byte[]>();

    public override bool Matches(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty || _nodes.Length == 0)
        {
            return line.IsEmpty && _nodes.Length == 0;
        }

        var offset = 0;
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (_nodes[i] is not { } literal)
            {
                continue;
            }

            var j = line[offset..].IndexOf(literal);
            if (j < 0 || (i != 0 && j == 0))
            {
                return false;
            }

            offset += j + literal.Length;
        }

        var endsOnCapture = _nodes[^1] is null;
        return endsOnCapture == (offset != line.Length);
    }
}

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

        if (pattern.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(pattern, out var network) && TryParseAddress(pattern.AsSpan(0, pattern.IndexOf('/', StringComparison.Ordinal)), out _))
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

/// <summary><c>|= ip("...")</c>: some address in the line lies in the pattern.</summary>
internal sealed class IpLineMatcher(IpPattern pattern) : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) => pattern.MatchesAnyIn(line);
}

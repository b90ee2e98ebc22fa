using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace LokiSharp.LogQL.Literals;

/// <summary>
/// An ASCII literal searched for in UTF-8 text ignoring ASCII letter case. The scan compares two anchor bytes of the
/// literal at once across a vector of candidate positions (each OR 0x20 when it is a letter, which folds exactly the
/// two cases of that letter), then verifies the few candidates; the anchors are the literal's rarest-looking bytes.
/// </summary>
/// <remarks>
/// RE2's <c>(?i)</c> also folds <c>k</c> to the Kelvin sign U+212A and <c>s</c> to U+017F. An ASCII search cannot see
/// those, so <see cref="FoldsBeyondAscii"/> tells callers when a miss on text with non-ASCII bytes is not final.
/// </remarks>
public sealed class IgnoreCaseLiteral
{
    // Letters from most to least frequent in English and log text; the later, the better an anchor.
    private const string LetterFrequency = "etaoinsrhldcumfpgwybvkxjqz";

    private readonly byte[] _lower;
    private readonly int _first;
    private readonly int _second;
    private readonly byte _firstMask;
    private readonly byte _secondMask;

    /// <summary>Creates a search for <paramref name="asciiLiteral"/>, which must be ASCII.</summary>
    public IgnoreCaseLiteral(ReadOnlySpan<byte> asciiLiteral)
    {
        if (!Ascii.IsValid(asciiLiteral))
        {
            throw new ArgumentException("The literal must be ASCII.", nameof(asciiLiteral));
        }

        _lower = new byte[asciiLiteral.Length];
        Ascii.ToLower(asciiLiteral, _lower, out _);
        FoldsBeyondAscii = _lower.AsSpan().IndexOfAny((byte)'k', (byte)'s') >= 0;
        (_first, _second) = PickAnchors(_lower);
        if (_lower.Length > 0)
        {
            _firstMask = char.IsAsciiLetter((char)_lower[_first]) ? (byte)0x20 : (byte)0;
            _secondMask = char.IsAsciiLetter((char)_lower[_second]) ? (byte)0x20 : (byte)0;
        }
    }

    /// <summary>The literal, lower-cased.</summary>
    public ReadOnlySpan<byte> Lower => _lower;

    /// <summary>Whether the literal holds a letter that RE2 also folds to a non-ASCII character (k, s).</summary>
    public bool FoldsBeyondAscii { get; }

    /// <summary>Whether <paramref name="text"/> contains the literal, ignoring ASCII case.</summary>
    public bool IsFoundIn(ReadOnlySpan<byte> text) => IndexIn(text) >= 0;

    /// <summary>The first offset of the literal in <paramref name="text"/> ignoring ASCII case, or -1.</summary>
    public int IndexIn(ReadOnlySpan<byte> text)
    {
        var n = _lower.Length;
        if (n == 0)
        {
            return 0;
        }

        var lastStart = text.Length - n;
        if (lastStart < 0)
        {
            return -1;
        }

        if (n == 1)
        {
            var b = _lower[0];
            return _firstMask != 0 ? text.IndexOfAny(b, (byte)(b ^ 0x20)) : text.IndexOf(b);
        }

        ref var start = ref MemoryMarshal.GetReference(text);
        var i = 0;
        if (Vector256.IsHardwareAccelerated && lastStart + 1 >= Vector256<byte>.Count)
        {
            var first = Vector256.Create(_lower[_first]);
            var second = Vector256.Create(_lower[_second]);
            var firstMask = Vector256.Create(_firstMask);
            var secondMask = Vector256.Create(_secondMask);
            while (true)
            {
                // The last vector may overlap the previous one: re-testing a few starts is harmless.
                if (i > lastStart + 1 - Vector256<byte>.Count)
                {
                    if (i > lastStart)
                    {
                        return -1;
                    }

                    i = lastStart + 1 - Vector256<byte>.Count;
                }

                var a = Vector256.LoadUnsafe(ref start, (nuint)(i + _first)) | firstMask;
                var c = Vector256.LoadUnsafe(ref start, (nuint)(i + _second)) | secondMask;
                var bits = (Vector256.Equals(a, first) & Vector256.Equals(c, second)).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    var candidate = i + BitOperations.TrailingZeroCount(bits);
                    if (Verify(ref start, candidate))
                    {
                        return candidate;
                    }

                    bits &= bits - 1;
                }

                i += Vector256<byte>.Count;
            }
        }

        if (Vector128.IsHardwareAccelerated && lastStart + 1 >= Vector128<byte>.Count)
        {
            var first = Vector128.Create(_lower[_first]);
            var second = Vector128.Create(_lower[_second]);
            var firstMask = Vector128.Create(_firstMask);
            var secondMask = Vector128.Create(_secondMask);
            while (true)
            {
                if (i > lastStart + 1 - Vector128<byte>.Count)
                {
                    if (i > lastStart)
                    {
                        return -1;
                    }

                    i = lastStart + 1 - Vector128<byte>.Count;
                }

                var a = Vector128.LoadUnsafe(ref start, (nuint)(i + _first)) | firstMask;
                var c = Vector128.LoadUnsafe(ref start, (nuint)(i + _second)) | secondMask;
                var bits = (Vector128.Equals(a, first) & Vector128.Equals(c, second)).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    var candidate = i + BitOperations.TrailingZeroCount(bits);
                    if (Verify(ref start, candidate))
                    {
                        return candidate;
                    }

                    bits &= bits - 1;
                }

                i += Vector128<byte>.Count;
            }
        }

        for (; i <= lastStart; i++)
        {
            if ((Unsafe.Add(ref start, i + _first) | _firstMask) == _lower[_first] &&
                (Unsafe.Add(ref start, i + _second) | _secondMask) == _lower[_second] && Verify(ref start, i))
            {
                return i;
            }
        }

        return -1;
    }

    private bool Verify(ref byte text, int offset) =>
        Ascii.EqualsIgnoreCase(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref text, offset), _lower.Length), _lower);

    private static (int First, int Second) PickAnchors(ReadOnlySpan<byte> lower)
    {
        if (lower.Length < 2)
        {
            return (0, 0);
        }

        // The two rarest bytes at distinct offsets; ties keep the earlier offsets.
        int best = -1, next = -1;
        int bestRank = -1, nextRank = -1;
        for (var i = 0; i < lower.Length; i++)
        {
            var rank = Rarity(lower[i]);
            if (rank > bestRank)
            {
                (next, nextRank) = (best, bestRank);
                (best, bestRank) = (i, rank);
            }
            else if (rank > nextRank)
            {
                (next, nextRank) = (i, rank);
            }
        }

        return best < next ? (best, next) : (next, best);
    }

    private static int Rarity(byte b)
    {
        var letter = LetterFrequency.IndexOf((char)b, StringComparison.Ordinal);
        if (letter >= 0)
        {
            return letter + 1;
        }

        // Spaces and separators are everywhere; digits and other punctuation are about as rare as mid-frequency letters.
        return b is (byte)' ' or (byte)'=' or (byte)'"' or (byte)':' or (byte)',' or (byte)'.' or (byte)'/' ? 0 : 12;
    }
}

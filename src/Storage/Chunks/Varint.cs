using System.Buffers;
using System.Runtime.CompilerServices;

namespace LokiSharp.Storage.Chunks;

/// <summary>Unsigned LEB128 varints, as used inside raw blocks and index records.</summary>
public static class Varint
{
    public const int MaxLength = 10;

    public static int Write(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    public static void Write(IBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(MaxLength);
        output.Advance(Write(span, value));
    }

    /// <summary>A signed value folded so that small magnitudes of either sign make small varints (protobuf's zigzag).</summary>
    public static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    /// <summary>The inverse of <see cref="ZigZag"/>.</summary>
    public static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    /// <summary>Reads a varint at <paramref name="position"/>, advancing it; false when truncated or overlong.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        // Block readers call this per entry and column, and most values (lengths, counts) fit one byte.
        var p = position;
        if ((uint)p < (uint)source.Length && source[p] < 0x80)
        {
            value = source[p];
            position = p + 1;
            return true;
        }

        return TryReadLong(source, ref position, out value);
    }

    private static bool TryReadLong(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        value = 0;
        var shift = 0;
        var p = position;
        while (p < source.Length)
        {
            var b = source[p++];
            if (shift == 63 && b > 1)
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                position = p;
                return true;
            }

            shift += 7;
            if (shift > 63)
            {
                return false;
            }
        }

        return false;
    }
}

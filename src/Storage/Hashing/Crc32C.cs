using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace LokiSharp.Storage.Hashing;

/// <summary>CRC-32C (Castagnoli), the checksum on every chunk block, table and index record.</summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78; // reflected Castagnoli polynomial

    // Slicing-by-8 tables for machines without a CRC32C instruction.
    private static readonly uint[] Table = BuildTable();

    // Bytes per lane when three lanes run interleaved: the CRC32C instruction takes 3 cycles but a new one can start
    // every cycle, so three independent lanes go about three times as fast as one. Inputs shorter than three lanes
    // (24 KiB) take the single lane.
    private const int LaneBytes = 8 * 1024;

    // The register after LaneBytes zero bytes, as 4 tables by byte of the register: joins the lanes' registers.
    private static readonly uint[] ShiftTable = BuildShiftTable(LaneBytes);

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues <paramref name="crc"/> (a previous result) over more data.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var state = ~crc;
        if (Sse42.X64.IsSupported)
        {
            state = AppendSse64(state, data);
        }
        else if (Sse42.IsSupported)
        {
            state = AppendSse32(state, data);
        }
        else if (Crc32.Arm64.IsSupported)
        {
            state = AppendArm64(state, data);
        }
        else
        {
            state = AppendSoftware(state, data);
        }

        return ~state;
    }

    internal static uint AppendSoftwareForTest(uint crc, ReadOnlySpan<byte> data) => ~AppendSoftware(~crc, data);

    private static uint AppendSse64(uint state, ReadOnlySpan<byte> data)
    {
        // Lanes A, B and C are consecutive; the register over A||B||C is Z(Z(A) ^ B) ^ C, where A starts from the
        // incoming register, B and C from zero, and Z is the register's change over LaneBytes zero bytes (linear).
        while (data.Length >= 3 * LaneBytes)
        {
            ulong a = state, b = 0, c = 0;
            ref var lane = ref MemoryMarshal.GetReference(data);
            for (var i = 0; i < LaneBytes; i += 8)
            {
                // x64 is little-endian: plain unaligned reads, in bounds as the loop condition checked 3 lanes.
                a = Sse42.X64.Crc32(a, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref lane, i)));
                b = Sse42.X64.Crc32(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref lane, LaneBytes + i)));
                c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref lane, (2 * LaneBytes) + i)));
            }

            state = Shift(Shift((uint)a) ^ (uint)b) ^ (uint)c;
            data = data[(3 * LaneBytes)..];
        }

        return AppendSse64Lane(state, data);
    }

    internal static uint AppendOneLaneForTest(uint crc, ReadOnlySpan<byte> data) =>
        Sse42.X64.IsSupported ? ~AppendSse64Lane(~crc, data) : Append(crc, data);

    private static uint Shift(uint state)
    {
        var t = ShiftTable;
        return t[state & 0xFF] ^ t[256 + ((state >> 8) & 0xFF)] ^ t[512 + ((state >> 16) & 0xFF)] ^ t[768 + (state >> 24)];
    }

    private static uint AppendSse64Lane(uint state, ReadOnlySpan<byte> data)
    {
        ulong s = state;
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            s = Sse42.X64.Crc32(s, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        state = (uint)s;
        for (; i < data.Length; i++)
        {
            state = Sse42.Crc32(state, data[i]);
        }

        return state;
    }

    private static uint AppendSse32(uint state, ReadOnlySpan<byte> data)
    {
        var i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            state = Sse42.Crc32(state, BinaryPrimitives.ReadUInt32LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            state = Sse42.Crc32(state, data[i]);
        }

        return state;
    }

    private static uint AppendArm64(uint state, ReadOnlySpan<byte> data)
    {
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            state = Crc32.Arm64.ComputeCrc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            state = Crc32.ComputeCrc32C(state, data[i]);
        }

        return state;
    }

    private static uint AppendSoftware(uint state, ReadOnlySpan<byte> data)
    {
        var t = Table;
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            var lo = BinaryPrimitives.ReadUInt32LittleEndian(data[i..]) ^ state;
            var hi = BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
            state = t[(7 * 256) + (lo & 0xFF)] ^ t[(6 * 256) + ((lo >> 8) & 0xFF)] ^
                    t[(5 * 256) + ((lo >> 16) & 0xFF)] ^ t[(4 * 256) + (lo >> 24)] ^
                    t[(3 * 256) + (hi & 0xFF)] ^ t[(2 * 256) + ((hi >> 8) & 0xFF)] ^
                    t[256 + ((hi >> 16) & 0xFF)] ^ t[hi >> 24];
        }

        for (; i < data.Length; i++)
        {
            state = t[(state ^ data[i]) & 0xFF] ^ (state >> 8);
        }

        return state;
    }

    // For each byte position and value of the register, the register after `zeros` zero bytes (software steps; once).
    private static uint[] BuildShiftTable(int zeros)
    {
        var basis = new uint[32];
        for (var bit = 0; bit < 32; bit++)
        {
            var state = 1u << bit;
            for (var n = 0; n < zeros; n++)
            {
                state = Table[state & 0xFF] ^ (state >> 8);
            }

            basis[bit] = state;
        }

        var table = new uint[4 * 256];
        for (var position = 0; position < 4; position++)
        {
            for (var value = 0; value < 256; value++)
            {
                uint shifted = 0;
                for (var bit = 0; bit < 8; bit++)
                {
                    if ((value & (1 << bit)) != 0)
                    {
                        shifted ^= basis[(position * 8) + bit];
                    }
                }

                table[(position * 256) + value] = shifted;
            }
        }

        return table;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        for (var n = 0; n < 256; n++)
        {
            for (var s = 1; s < 8; s++)
            {
                var prev = table[((s - 1) * 256) + n];
                table[(s * 256) + n] = table[prev & 0xFF] ^ (prev >> 8);
            }
        }

        return table;
    }
}

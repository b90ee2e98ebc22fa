using System.Buffers.Binary;

namespace LokiSharp.Ingester.Tests;

/// <summary>Reading a write-ahead log segment file the way its format says, for tests that look at its bytes.</summary>
internal static class WalSegments
{
    /// <summary>
    /// Where a segment's records end: a segment written with direct I/O is longer, by the zeros after its last record.
    /// </summary>
    public static long RecordsEnd(string segment)
    {
        var bytes = File.ReadAllBytes(segment);
        var end = 8;
        while (end + 8 <= bytes.Length && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end)) is var length and > 0)
        {
            end += 8 + (int)length;
        }

        return end;
    }
}

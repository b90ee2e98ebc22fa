using System.Buffers;
using System.Buffers.Binary;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Hashing;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Store;

/// <summary>Reads <c>destination.Length</c> bytes of a stored chunk from byte <paramref name="start"/> of it.</summary>
internal delegate void ChunkRangeReader(in ChunkRef chunk, int start, Span<byte> destination);

/// <summary>
/// A stored chunk's checked tail: the section from its block table to its footer (table rows, content and id filters),
/// enough to tell whether a line filter may match any of its blocks without loading the chunk.
/// </summary>
/// <param name="Section">Bytes <c>[TableOffset, length - footer)</c> of the chunk.</param>
/// <param name="TableOffset">Where the section starts in the chunk (filter offsets count from the chunk's start).</param>
/// <param name="BlockCount">Rows in the block table.</param>
internal sealed record ChunkTail(byte[] Section, int TableOffset, int BlockCount)
{
    // One read covers the table and filters of a one-block chunk (a head part) with room to spare.
    private const int TailGuess = 8 * 1024;

    /// <summary>
    /// Reads and checks a chunk's tail and header; null when they do not check out (bad magic, version or encoding,
    /// bounds, section CRC) or cannot be read, so that the full read reports the damage as before.
    /// </summary>
    public static ChunkTail? Read(ChunkRangeReader read, in ChunkRef chunk, out int bytesRead)
    {
        bytesRead = 0;
        if (chunk.Length < ChunkFormat.HeaderSize + ChunkFormat.FooterSize)
        {
            return null;
        }

        var tailLength = Math.Min(chunk.Length, TailGuess);
        var tail = ArrayPool<byte>.Shared.Rent(tailLength);
        try
        {
            read(chunk, chunk.Length - tailLength, tail.AsSpan(0, tailLength));
            bytesRead += tailLength;
            Span<byte> header = stackalloc byte[ChunkFormat.HeaderSize];
            if (tailLength == chunk.Length)
            {
                tail.AsSpan(0, ChunkFormat.HeaderSize).CopyTo(header);
            }
            else
            {
                read(chunk, 0, header);
                bytesRead += header.Length;
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != ChunkFormat.HeaderMagic || header[5] > ChunkFormat.Version ||
                header[6] >= Codecs.ChunkEncodings.All.Count)
            {
                return null;
            }

            var footer = tail.AsSpan(tailLength - ChunkFormat.FooterSize, ChunkFormat.FooterSize);
            var tableOffset = BinaryPrimitives.ReadInt32LittleEndian(footer);
            var blockCount = BinaryPrimitives.ReadInt32LittleEndian(footer[4..]);
            var footerStart = chunk.Length - ChunkFormat.FooterSize;
            if (BinaryPrimitives.ReadUInt32LittleEndian(footer[12..]) != ChunkFormat.FooterMagic || tableOffset < ChunkFormat.HeaderSize ||
                tableOffset > footerStart || blockCount < 0 || (long)blockCount * ChunkFormat.BlockInfoSize > footerStart - tableOffset)
            {
                return null;
            }

            var section = new byte[footerStart - tableOffset];
            if (section.Length <= tailLength - ChunkFormat.FooterSize)
            {
                tail.AsSpan(tailLength - ChunkFormat.FooterSize - section.Length, section.Length).CopyTo(section);
            }
            else
            {
                read(chunk, tableOffset, section);
                bytesRead += section.Length;
            }

            return Crc32C.Compute(section) == BinaryPrimitives.ReadUInt32LittleEndian(footer[8..])
                ? new ChunkTail(section, tableOffset, blockCount)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ChunkCorruptException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(tail);
        }
    }
}

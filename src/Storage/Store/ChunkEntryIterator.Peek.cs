using System.Buffers;
using System.Buffers.Binary;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Hashing;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Store;

/// <summary>Reads <c>destination.Length</c> bytes of a stored chunk from byte <paramref name="start"/> of it.</summary>
internal delegate void ChunkRangeReader(in ChunkRef chunk, int start, Span<byte> destination);

/// <content>
/// Peeking: with a line filter, a stored chunk's block table and filters (its tail) are read first, and the chunk
/// is loaded only when one of its blocks may hold a match, so a needle search reads a few KB per chunk, not the chunk.
/// </content>
internal sealed partial class ChunkEntryIterator
{
    // One read covers the table and filters of a one-block chunk (a head part) with room to spare.
    private const int TailGuess = 8 * 1024;

    /// <summary>
    /// False when no block of <paramref name="chunk"/> in the query's time range may hold a matching line (the skip is
    /// counted); true when one may, or when the tail does not check out (the full read then reports the damage).
    /// </summary>
    private bool MayMatch(in ChunkRef chunk)
    {
        if (_peek is null || _query.Filter is not { IsEmpty: false } filter || chunk.Length < ChunkFormat.HeaderSize + ChunkFormat.FooterSize)
        {
            return true;
        }

        var tailLength = Math.Min(chunk.Length, TailGuess);
        var tail = ArrayPool<byte>.Shared.Rent(tailLength);
        byte[]? larger = null;
        try
        {
            _peek(chunk, chunk.Length - tailLength, tail.AsSpan(0, tailLength));
            Stats.LoadedBytes += tailLength;
            Span<byte> header = stackalloc byte[ChunkFormat.HeaderSize];
            if (tailLength == chunk.Length)
            {
                tail.AsSpan(0, ChunkFormat.HeaderSize).CopyTo(header);
            }
            else
            {
                _peek(chunk, 0, header);
            }

            // A chunk the full read would refuse is left to it, so that it reports the damage as before.
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != ChunkFormat.HeaderMagic || header[5] > ChunkFormat.Version ||
                header[6] >= Codecs.ChunkEncodings.All.Count)
            {
                return true;
            }

            var footer = tail.AsSpan(tailLength - ChunkFormat.FooterSize, ChunkFormat.FooterSize);
            var tableOffset = BinaryPrimitives.ReadInt32LittleEndian(footer);
            var blockCount = BinaryPrimitives.ReadInt32LittleEndian(footer[4..]);
            var footerStart = chunk.Length - ChunkFormat.FooterSize;
            if (BinaryPrimitives.ReadUInt32LittleEndian(footer[12..]) != ChunkFormat.FooterMagic || tableOffset < ChunkFormat.HeaderSize ||
                tableOffset > footerStart || blockCount < 0 || (long)blockCount * ChunkFormat.BlockInfoSize > footerStart - tableOffset)
            {
                return true;
            }

            // The section [tableOffset, footerStart): table rows then filters.
            var sectionLength = footerStart - tableOffset;
            ReadOnlySpan<byte> section;
            if (sectionLength <= tailLength - ChunkFormat.FooterSize)
            {
                section = tail.AsSpan(tailLength - ChunkFormat.FooterSize - sectionLength, sectionLength);
            }
            else
            {
                larger = ArrayPool<byte>.Shared.Rent(sectionLength);
                _peek(chunk, tableOffset, larger.AsSpan(0, sectionLength));
                Stats.LoadedBytes += sectionLength;
                section = larger.AsSpan(0, sectionLength);
            }

            if (Crc32C.Compute(section) != BinaryPrimitives.ReadUInt32LittleEndian(footer[8..]))
            {
                return true;
            }

            return AnyBlockMayMatch(section, tableOffset, blockCount, filter);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ChunkCorruptException)
        {
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(tail);
            if (larger is not null)
            {
                ArrayPool<byte>.Shared.Return(larger);
            }
        }
    }

    private bool AnyBlockMayMatch(ReadOnlySpan<byte> section, int tableOffset, int blockCount, ContentIndex.LiteralPrefilter filter)
    {
        var filtersStart = blockCount * ChunkFormat.BlockInfoSize;
        int skippedByTime = 0, skippedByContent = 0;
        long skippedBytes = 0;
        for (var i = 0; i < blockCount; i++)
        {
            var row = section[(i * ChunkFormat.BlockInfoSize)..];
            var min = BinaryPrimitives.ReadInt64LittleEndian(row);
            var max = BinaryPrimitives.ReadInt64LittleEndian(row[8..]);
            if (!(min < _query.Through && max >= _query.From))
            {
                skippedByTime++;
                continue;
            }

            // Filter offsets count from the chunk's start; the section starts at tableOffset.
            var filterAt = BinaryPrimitives.ReadInt32LittleEndian(row[36..]) - tableOffset;
            var filterSize = BinaryPrimitives.ReadInt32LittleEndian(row[40..]);
            var idSize = BinaryPrimitives.ReadInt32LittleEndian(row[44..]);
            if (filterSize < 0 || idSize < 0 ||
                (filterSize + idSize > 0 && (filterAt < filtersStart || (long)filterAt + filterSize + idSize > section.Length)))
            {
                return true;
            }

            var text = filterSize == 0 ? default : section.Slice(filterAt, filterSize);
            var ids = idSize == 0 ? default : section.Slice(filterAt + filterSize, idSize);
            if (filter.MayMatchBlock(text, ids))
            {
                return true;
            }

            skippedByContent++;
            skippedBytes += BinaryPrimitives.ReadInt32LittleEndian(row[20..]);
        }

        // Counted as the full read would have: the chunk is referenced, its blocks skipped.
        Stats.Chunks++;
        Stats.BlocksSkippedByTime += skippedByTime;
        Stats.BlocksSkippedByContent += skippedByContent;
        Stats.SkippedByContentBytes += skippedBytes;
        return false;
    }
}

using System.Buffers.Binary;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Store;

/// <summary>A stored chunk's checked tail (<see cref="ChunkTail"/>), read or cached; null when it does not check out.</summary>
internal delegate ChunkTail? ChunkTailSource(in ChunkRef chunk, out int bytesRead);

/// <content>
/// Peeking: with a line filter, a stored chunk's block table and filters (its tail) are looked at first, and the chunk
/// is loaded only when one of its blocks may hold a match, so a needle search reads a few KB per chunk, not the chunk.
/// </content>
internal sealed partial class ChunkEntryIterator
{
    /// <summary>
    /// False when no block of <paramref name="chunk"/> in the query's time range may hold a matching line (the skip is
    /// counted); true when one may, or when the tail does not check out (the full read then reports the damage).
    /// </summary>
    private bool MayMatch(in ChunkRef chunk)
    {
        if (_tails is null || _query.Filter is not { IsEmpty: false } filter)
        {
            return true;
        }

        var tail = _tails(chunk, out var bytesRead);
        Stats.LoadedBytes += bytesRead;
        return tail is null || AnyBlockMayMatch(tail.Section, tail.TableOffset, tail.BlockCount, filter);
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

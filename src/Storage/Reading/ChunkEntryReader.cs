using System.Buffers;
using System.Runtime.InteropServices;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Store;

namespace LokiSharp.Storage.Reading;

/// <summary>
/// Reads encoded chunks held in memory (the ingester's cut but not yet flushed chunks) with the same
/// merging, block skipping and filtering as the stored path.
/// </summary>
public static class ChunkEntryReader
{
    /// <summary>Iterates the entries of one stream's chunks in <c>[query.From, query.Through)</c>.</summary>
    /// <remarks>The chunk memory must stay unchanged until the iterator is disposed.</remarks>
    public static IEntryIterator Open(IReadOnlyList<ReadOnlyMemory<byte>> chunks, in EntryQuery query)
    {
        var segments = new ArraySegment<byte>[chunks.Count];
        var refs = new List<ChunkRef>(chunks.Count);
        var skipped = new ReadStats();
        for (var i = 0; i < chunks.Count; i++)
        {
            segments[i] = MemoryMarshal.TryGetArray(chunks[i], out var segment) ? segment : chunks[i].ToArray();
            long from = long.MinValue, through = long.MaxValue;
            try
            {
                var layout = ChunkLayout.Parse(segments[i]);
                if (layout.Blocks.Count == 0)
                {
                    continue;
                }

                from = layout.MinTime;
                through = layout.MaxTime;
                if (from < query.Through && through >= query.From && !MayMatch(segments[i], layout, query, skipped))
                {
                    continue;
                }
            }
            catch (ChunkCorruptException)
            {
                // Keep it: the iterator reports it as a warning when it reaches it.
            }

            if (from < query.Through && through >= query.From)
            {
                refs.Add(new ChunkRef(i, 0, segments[i].Count, from, through, 0, 0));
            }
        }

        var iterator = new ChunkEntryIterator(refs, query, c =>
        {
            var segment = segments[(int)c.PackId];
            return new ChunkBytes(segment.Array!, segment.Offset, segment.Count, Rented: false);
        }, InMemoryOrigin.Instance);
        iterator.Stats.Add(skipped);
        return iterator;
    }

    // With a line filter, a chunk none of whose blocks in range may match is judged here, from the layout already
    // parsed, instead of being parsed again by a cursor: a needle search over the head then costs one parse per part.
    // Counted as the cursor would have: the chunk is referenced, its blocks skipped.
    private static bool MayMatch(ReadOnlySpan<byte> chunk, ChunkLayout layout, in EntryQuery query, ReadStats skipped)
    {
        if (query.Filter is not { IsEmpty: false } filter)
        {
            return true;
        }

        int byTime = 0, byContent = 0;
        long bytes = 0;
        foreach (var block in layout.Blocks)
        {
            if (!block.Overlaps(query.From, query.Through))
            {
                byTime++;
            }
            else if (filter.MayMatchBlock(ChunkLayout.FilterOf(chunk, block), ChunkLayout.IdFilterOf(chunk, block)))
            {
                return true;
            }
            else
            {
                byContent++;
                bytes += block.CompressedSize;
            }
        }

        skipped.Chunks++;
        skipped.LoadedBytes += chunk.Length;
        skipped.BlocksSkippedByTime += byTime;
        skipped.BlocksSkippedByContent += byContent;
        skipped.SkippedByContentBytes += bytes;
        return false;
    }

    /// <summary>
    /// Iterates the entries of one stream's chunks kept in files (an ingester's spilled head), each read into a
    /// rented buffer only when the iterator reaches it, as stored chunks are; the handles must stay open until
    /// the iterator is disposed.
    /// </summary>
    public static IEntryIterator Open(IReadOnlyList<FileChunk> chunks, in EntryQuery query)
    {
        var refs = new List<ChunkRef>(chunks.Count);
        for (var i = 0; i < chunks.Count; i++)
        {
            var c = chunks[i];
            if (c.MinTime < query.Through && c.MaxTime >= query.From)
            {
                refs.Add(new ChunkRef(i, c.Offset, c.Length, c.MinTime, c.MaxTime, c.Entries, 0));
            }
        }

        // A line-filtered read looks at a part's block table and filters first, as for stored chunks, so a needle search
        // reads a few KB per spilled part instead of the part, and nothing once the part keeps its tail.
        ChunkRangeReader range = (in ChunkRef c, int start, Span<byte> destination) =>
            ReadExactly(chunks[(int)c.PackId].File, c.Offset + start, destination);
        // Parts whose tails are kept are judged through their owner's sieve first (one owner per ingester).
        ChunkSieveSource? sieve = chunks.Count > 0 && chunks[0].Tail is { } first
            ? filter => new FileChunkSieve(chunks, first.Owner.Candidates(filter))
            : null;
        return new ChunkEntryIterator(refs, query, c => Read(chunks[(int)c.PackId].File, c), InMemoryOrigin.Instance,
            (in ChunkRef c, out int bytesRead) => chunks[(int)c.PackId].Tail is { } kept
                ? kept.Get(range, c, out bytesRead)
                : ChunkTail.Read(range, c, out bytesRead), sieve);
    }

    private static ChunkBytes Read(Microsoft.Win32.SafeHandles.SafeFileHandle file, in ChunkRef chunk)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(chunk.Length);
        try
        {
            ReadExactly(file, chunk.Offset, buffer.AsSpan(0, chunk.Length));
            return new ChunkBytes(buffer, 0, chunk.Length, Rented: true);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, Span<byte> destination)
    {
        if (FileReads.ReadFully(file, destination, offset) < destination.Length)
        {
            throw new ChunkCorruptException($"file ends before chunk bytes at offset {offset} (+{destination.Length} bytes)");
        }
    }

    /// <summary>Chunks held in memory: named by their position; nothing on disk to report.</summary>
    private sealed class InMemoryOrigin : IChunkOrigin
    {
        public static InMemoryOrigin Instance { get; } = new();

        public string Describe(in ChunkRef chunk) =>
            "in memory #" + chunk.PackId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public void Skipped(in ChunkRef chunk, int block, CorruptionKind kind, string warning)
        {
        }
    }
}

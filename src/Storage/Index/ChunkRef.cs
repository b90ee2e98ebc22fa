namespace LokiSharp.Storage.Index;

/// <summary>Where a stored chunk lives and what it covers, as the label index records it per series.</summary>
/// <param name="PackId">The pack file holding the chunk.</param>
/// <param name="Offset">Byte offset of the chunk in the pack.</param>
/// <param name="Length">Encoded chunk length (stored bytes).</param>
/// <param name="From">First entry timestamp, Unix ns.</param>
/// <param name="Through">Last entry timestamp, Unix ns (inclusive).</param>
/// <param name="Entries">Entry count.</param>
/// <param name="UncompressedBytes">Line plus structured metadata bytes.</param>
public readonly record struct ChunkRef(
    long PackId,
    long Offset,
    int Length,
    long From,
    long Through,
    int Entries,
    long UncompressedBytes)
{
    /// <summary>Whether the chunk may hold entries in <c>[from, through)</c>.</summary>
    public bool Overlaps(long from, long through) => From < through && Through >= from;

    /// <summary>Identity of the chunk independent of which index table lists it.</summary>
    public (long PackId, long Offset) Key => (PackId, Offset);
}

/// <summary>Totals Loki's <c>index/stats</c> reports.</summary>
/// <param name="Streams">Distinct series.</param>
/// <param name="Chunks">Distinct chunks.</param>
/// <param name="Bytes">Uncompressed bytes of those chunks.</param>
/// <param name="Entries">Entries in those chunks.</param>
public readonly record struct IndexStats(long Streams, long Chunks, long Bytes, long Entries);

/// <summary>Uncompressed bytes of one series in a time range, for <c>index/volume</c>.</summary>
/// <param name="Labels">The series.</param>
/// <param name="Bytes">Uncompressed bytes of its chunks overlapping the range.</param>
public readonly record struct SeriesVolume(LogQL.Labels.LabelSet Labels, long Bytes);

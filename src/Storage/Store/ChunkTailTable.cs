using System.Buffers.Binary;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Store;

/// <summary>
/// The cached tails of one chunks directory by (pack, offset): an insert-only open-addressing table of inline slots, so
/// a lookup is a hash and, nearly always, one slot read, where a needle search looks up every chunk it may skip. A
/// one-block chunk's slot also holds its block's time range and size and its column in the <see cref="IdFilterSieve"/>,
/// so a search can skip it from the slot alone. Reads take no lock; inserts take one and grow the table by publishing
/// a doubled copy.
/// </summary>
internal sealed class ChunkTailTable
{
    private readonly Lock _sync = new();
    private readonly IdFilterSieve _sieve = new();
    private Slot[] _slots = new Slot[1024];
    private int _count;

    public ChunkTailTable() => Summarizer = (chunks, kept) => StreamSieve.Summarize(this, chunks, kept);

    /// <summary>Tails kept.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Columns removed from the sieve (see <see cref="IdFilterSieve.Removals"/>).</summary>
    public int SieveRemovals => _sieve.Removals;

    /// <summary>Makes (or keeps) a stream's <see cref="StreamSieve"/> over this table, for <see cref="LabelIndex.SummaryOf{T}"/>.</summary>
    public SeriesSummarizer<StreamSieve> Summarizer { get; }

    /// <summary>The tail kept for the chunk at <paramref name="offset"/> of pack <paramref name="packId"/>, or null.</summary>
    public ChunkTail? Find(long packId, long offset) => Find(Volatile.Read(ref _slots), packId, offset, out _);

    /// <summary>As <see cref="Find(long, long)"/>, with the chunk's sieve entry (<see cref="SieveEntry.Group"/> -1: none).</summary>
    public ChunkTail? Find(long packId, long offset, out SieveEntry entry) => Find(Volatile.Read(ref _slots), packId, offset, out entry);

    /// <summary>
    /// Reads the first slot each chunk's lookup will probe, all before any lookup, so that their memory waits overlap;
    /// returns a value only so that the reads are kept.
    /// </summary>
    public long Touch(ReadOnlySpan<ChunkRef> chunks)
    {
        var slots = Volatile.Read(ref _slots);
        var mask = slots.Length - 1;
        long sum = 0;
        foreach (ref readonly var c in chunks)
        {
            sum += slots[Hash(c.PackId, c.Offset) & mask].PackId;
        }

        return sum;
    }

    /// <summary>The sieve columns <paramref name="filter"/> may match.</summary>
    public SieveCandidates Candidates(LiteralPrefilter filter)
    {
        lock (_sync)
        {
            return _sieve.Candidates(filter);
        }
    }

    /// <summary>
    /// Keeps <paramref name="tail"/> unless the chunk has one already (false then); with <paramref name="sieve"/> a one-block
    /// tail with an id filter also gets a sieve column.
    /// </summary>
    public bool TryAdd(long packId, long offset, ChunkTail tail, bool sieve)
    {
        lock (_sync)
        {
            if (Find(_slots, packId, offset, out _) is not null)
            {
                return false;
            }

            // At most half full, so a probe always meets an empty slot.
            if ((_count + 1) * 2 > _slots.Length)
            {
                var grown = new Slot[_slots.Length * 2];
                foreach (var slot in _slots)
                {
                    if (slot.Tail is not null)
                    {
                        Insert(grown, slot);
                    }
                }

                Volatile.Write(ref _slots, grown);
            }

            var entry = sieve ? _sieve.Add(tail) : SieveEntry.None;
            Insert(_slots, new Slot { PackId = packId, Offset = offset, Entry = entry, Tail = tail });
            Volatile.Write(ref _count, _count + 1);
            return true;
        }
    }

    /// <summary>The id filter of a well-formed one-block tail with its block's time range and size; empty otherwise.</summary>
    public static ReadOnlySpan<byte> SieveFilter(ChunkTail tail, out long min, out long max, out int size)
    {
        (min, max, size) = (0, 0, 0);
        var section = tail.Section;
        if (tail.BlockCount != 1 || section.Length < ChunkFormat.BlockInfoSize)
        {
            return default;
        }

        var row = section.AsSpan(0, ChunkFormat.BlockInfoSize);
        var filterAt = BinaryPrimitives.ReadInt32LittleEndian(row[36..]) - tail.TableOffset;
        var filterSize = BinaryPrimitives.ReadInt32LittleEndian(row[40..]);
        var idSize = BinaryPrimitives.ReadInt32LittleEndian(row[44..]);
        if (idSize == 0 || !ChunkLayout.FiltersFit(filterAt, filterSize, idSize, ChunkFormat.BlockInfoSize, section.Length))
        {
            return default;
        }

        min = BinaryPrimitives.ReadInt64LittleEndian(row);
        max = BinaryPrimitives.ReadInt64LittleEndian(row[8..]);
        size = BinaryPrimitives.ReadInt32LittleEndian(row[20..]);
        return section.AsSpan(filterAt + filterSize, idSize);
    }

    private static ChunkTail? Find(Slot[] slots, long packId, long offset, out SieveEntry entry)
    {
        var mask = slots.Length - 1;
        for (var i = Hash(packId, offset) & mask; ; i = (i + 1) & mask)
        {
            ref var slot = ref slots[i];

            // A slot's other fields are written before its tail is published, and never change after.
            var tail = Volatile.Read(ref slot.Tail);
            if (tail is null)
            {
                entry = SieveEntry.None;
                return null;
            }

            if (slot.PackId == packId && slot.Offset == offset)
            {
                entry = slot.Entry;
                return tail;
            }
        }
    }

    private static void Insert(Slot[] slots, in Slot slot)
    {
        var mask = slots.Length - 1;
        var i = Hash(slot.PackId, slot.Offset) & mask;
        while (slots[i].Tail is not null)
        {
            i = (i + 1) & mask;
        }

        slots[i].PackId = slot.PackId;
        slots[i].Offset = slot.Offset;
        slots[i].Entry = slot.Entry;
        Volatile.Write(ref slots[i].Tail, slot.Tail);
    }

    private static int Hash(long packId, long offset)
    {
        var h = ((ulong)packId ^ ((ulong)offset * 0x9E3779B97F4A7C15UL)) * 0xBF58476D1CE4E5B9UL;
        return (int)(h >> 33);
    }

    private struct Slot
    {
        public long PackId;
        public long Offset;
        public SieveEntry Entry;
        public ChunkTail? Tail;
    }
}

/// <summary>A one-block chunk's place in the sieve and what a skip of it counts.</summary>
/// <param name="Group">Sieve group, -1 when the chunk has no column.</param>
/// <param name="Column">Column within the group.</param>
/// <param name="MinTime">The block's first timestamp.</param>
/// <param name="MaxTime">The block's last timestamp.</param>
/// <param name="CompressedSize">The block's compressed size.</param>
/// <param name="AddedAt">The sieve's version after the column was added.</param>
internal readonly record struct SieveEntry(int Group, int Column, long MinTime, long MaxTime, int CompressedSize, int AddedAt)
{
    /// <summary>The entry of a chunk without a sieve column.</summary>
    public static SieveEntry None { get; } = new(-1, 0, 0, 0, 0, 0);
}

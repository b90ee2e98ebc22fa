using System.Numerics;
using System.Runtime.CompilerServices;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// The distinct series labels one slice log met, kept without an object per series.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>
    /// The distinct label sets of one slice log's series, numbered in the order met: their pairs in one pooled column and
    /// an open-addressing table of numbers, found by hash and then compared pair by pair. When every line is its own
    /// series (a parser's labels), a label set kept per series survived every collection of its slice's loading (copied
    /// on each promotion, then reclaimed only by full collections): the collector's work grew with the slice.
    /// The pairs' chunks are given to the query's shelf whenever the table empties and taken from it when the table grows,
    /// so the tables of a query (every worker's log and the origin table, kept between slices) share the chunks
    /// of those in use at once instead of each keeping the largest array it ever needed.
    /// </summary>
    private sealed class SeriesKeyTable(QueryMemoryBudget? memory, ArrayShelf shelf)
    {
        // The pairs, in chunks of the shelf's chunk length (a longer key gets a chunk of its own): a table grows by
        // a chunk at a time, so it never copies its pairs nor leaves outgrown arrays behind, and an emptied table's
        // chunks serve whichever table of the query grows next.
        private const int FirstChunkLength = 64;
        private readonly List<LabelPair[]> _chunks = [];
        // How many pairs each chunk holds.
        private readonly List<int> _chunkFill = [];
        private long _pairsReserved;
        // Where each series' pairs begin: chunk number times the chunk length, plus the offset in it.
        private GrowableArray<int> _start;
        private GrowableArray<int> _hash;

        // Series number + 1 per slot (0 for empty); the used part is a power of two at most half full.
        private int[] _slots = [];
        private int _slotBits;
        private long _slotsReserved;

        public int Count => _hash.Count;

        /// <summary>The sorted pairs of series <paramref name="series"/>, valid until the table changes.</summary>
        public ReadOnlySpan<LabelPair> KeyOf(int series)
        {
            var start = _start[series];
            var chunk = start >>> ArrayShelf.PairChunkBits;
            var offset = start & (ArrayShelf.PairChunkLength - 1);
            var end = series + 1 < _start.Count && _start[series + 1] >>> ArrayShelf.PairChunkBits == chunk
                ? _start[series + 1] & (ArrayShelf.PairChunkLength - 1)
                : _chunkFill[chunk];
            return _chunks[chunk].AsSpan(offset, end - offset);
        }

        /// <summary>The <see cref="LabelSet.GetHashCode"/> of series <paramref name="series"/>.</summary>
        public int HashOf(int series) => _hash[series];

        /// <summary>A new label set equal to series <paramref name="series"/>.</summary>
        public LabelSet LabelsOf(int series) => LabelSet.FromSorted(KeyOf(series).ToArray(), _hash[series]);

        /// <summary>The number of the series with these pairs (sorted, as a label set holds them), or -1.</summary>
        public int Find(ReadOnlySpan<LabelPair> key, int hash)
        {
            if (Count == 0)
            {
                return -1;
            }

            var mask = (1 << _slotBits) - 1;
            for (var slot = SlotOf(hash); ; slot = (slot + 1) & mask)
            {
                var found = _slots[slot] - 1;
                if (found < 0)
                {
                    return -1;
                }

                if (_hash[found] == hash && KeyOf(found).SequenceEqual(key))
                {
                    return found;
                }
            }
        }

        /// <summary>Numbers a series <see cref="Find"/> did not find.</summary>
        public int Add(ReadOnlySpan<LabelPair> key, int hash)
        {
            if ((Count + 1) * 2 > (1 << _slotBits))
            {
                Grow();
            }

            var series = Count;
            var chunk = _chunks.Count - 1;
            if (chunk < 0 || _chunkFill[chunk] + key.Length > _chunks[chunk].Length || _chunkFill[chunk] >= ArrayShelf.PairChunkLength)
            {
                chunk = AddChunk(key.Length);
            }

            var offset = _chunkFill[chunk];
            _start.Add((chunk << ArrayShelf.PairChunkBits) + offset, memory);
            _hash.Add(hash, memory);
            key.CopyTo(_chunks[chunk].AsSpan(offset));
            _chunkFill[chunk] = offset + key.Length;

            Place(series);
            return series;
        }

        /// <summary>Forgets every series, keeping the columns' and table's capacity for the next slice.</summary>
        public void Reset()
        {
            if (Count > 0)
            {
                _slots.AsSpan(0, 1 << _slotBits).Clear();
            }

            _start.Reset();
            _hash.Reset();
            ReleasePairs();
        }

        /// <summary>Returns the columns and table to the pool and what they reserved.</summary>
        public void Release()
        {
            Reset();
            _start.Release(memory);
            _hash.Release(memory);
            if (_slots.Length > 0)
            {
                ColumnPool.Return(_slots);
            }

            _slots = [];
            _slotBits = 0;
            memory?.Release(_slotsReserved);
            _slotsReserved = 0;
        }

        private int AddChunk(int needed)
        {
            if (_chunks.Count >= int.MaxValue >> ArrayShelf.PairChunkBits)
            {
                // Series numbers address the pairs as chunk and offset in an int; a budget stops a query long before.
                throw new InvalidOperationException("A series key table cannot address more label pairs.");
            }

            // A table's first chunks are short (most queries have few series), each four times the last up to the
            // shelf's chunk length; every chunk still spans a whole chunk length of the addresses.
            var length = _chunks.Count == 0 ? FirstChunkLength : Math.Min(_chunks[^1].Length * 4, ArrayShelf.PairChunkLength);
            LabelPair[] chunk;
            if (needed > ArrayShelf.PairChunkLength)
            {
                memory?.Reserve((long)needed * Unsafe.SizeOf<LabelPair>());
                chunk = new LabelPair[needed];
            }
            else
            {
                // Reserved by the shelf: a shelved chunk comes with the reservation it kept there.
                chunk = shelf.TakePairs(needed > length ? ArrayShelf.PairChunkLength : length);
            }

            _pairsReserved += (long)chunk.Length * Unsafe.SizeOf<LabelPair>();
            _chunks.Add(chunk);
            _chunkFill.Add(0);
            return _chunks.Count - 1;
        }

        // The chunks go back to the shelf (cleared, so they keep no strings alive) for whichever table grows next, with
        // their reservation: only a chunk longer than the shelf keeps (a single long key's) is released here.
        private void ReleasePairs()
        {
            var shelved = 0L;
            for (var i = 0; i < _chunks.Count; i++)
            {
                var chunk = _chunks[i];
                chunk.AsSpan(0, _chunkFill[i]).Clear();
                if (chunk.Length <= ArrayShelf.PairChunkLength)
                {
                    shelf.PutPairs(chunk);
                    shelved += (long)chunk.Length * Unsafe.SizeOf<LabelPair>();
                }
            }

            _chunks.Clear();
            _chunkFill.Clear();
            memory?.Release(_pairsReserved - shelved);
            _pairsReserved = 0;
        }

        private int SlotOf(int hash) => (int)(((uint)hash * 0x9E3779B9u) >> (32 - _slotBits));

        private void Place(int series)
        {
            var mask = (1 << _slotBits) - 1;
            var slot = SlotOf(_hash[series]);
            while (_slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            _slots[slot] = series + 1;
        }

        private void Grow()
        {
            var bits = Math.Max(6, _slotBits + 1);
            var grown = ColumnPool.Rent<int>(1 << bits);
            if (memory is not null)
            {
                var bytes = (long)grown.Length * sizeof(int);
                memory.Reserve(bytes);
                memory.Release(_slotsReserved);
                _slotsReserved = bytes;
            }

            if (_slots.Length > 0)
            {
                ColumnPool.Return(_slots);
            }

            _slots = grown;
            _slotBits = BitOperations.Log2((uint)grown.Length);
            _slots.AsSpan(0, 1 << _slotBits).Clear();
            for (var series = 0; series < Count; series++)
            {
                Place(series);
            }
        }
    }
}

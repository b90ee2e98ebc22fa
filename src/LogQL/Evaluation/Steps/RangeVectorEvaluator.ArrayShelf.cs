using System.Runtime.CompilerServices;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// The arrays one query's slices take and give back.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>
    /// Arrays kept by one query between its slices, so a slice of about as many series as the last one takes the last
    /// one's arrays instead of allocating new large ones: when every line is its own series they are large, and a new
    /// set per slice churned the large object heap, which set off background collections of the whole heap (the shared
    /// pool, which a slice's arrays go through only between queries, missed them). Locked: the workers' series tables
    /// take and put their pair arrays while draining in parallel (rarely: when a table grows). Arrays of references are
    /// cleared when put back, so the shelf never keeps label sets alive.
    /// A shelved pair chunk stays reserved in <paramref name="memory"/>: the table that gives it up hands its reservation
    /// to the shelf, the next table to take it gets it back, and <see cref="Empty"/> releases it. The other arrays are
    /// not counted while shelved: a slice's series, which takes them, reserves its estimate of them all while it is
    /// built and until it is released; counted on the shelf as well, those the next slice takes would be counted twice
    /// while it is built.
    /// </summary>
    private sealed class ArrayShelf(QueryMemoryBudget? memory)
    {
        // More than a slice uses of one type at once (its columns and scratch arrays), so a slice always finds its own.
        private const int MaxPerType = 24;
        /// <summary>The label pairs in one chunk of a series key table, as a power of two (512 KB).</summary>
        public const int PairChunkBits = 15;

        public const int PairChunkLength = 1 << PairChunkBits;

        private readonly Dictionary<Type, (List<Array> Arrays, Action<Array> ToPool)> _free = [];
        // Chunks of series key tables, emptied: whole ones, as many as the query's tables held at once, left to the
        // collector when it ends (the shared pool would keep them resident after the query); and a table's shorter
        // first ones, returned to the shared pool then.
        private readonly Stack<LabelPair[]> _pairChunks = new();
        private readonly List<Array> _shortPairChunks = [];
        // What the shelved pair chunks hold, reserved in the budget.
        private long _pairBytes;
        private readonly Lock _lock = new();

        /// <summary>
        /// A chunk of at least <paramref name="length"/> pairs (exactly <see cref="PairChunkLength"/> when that is asked),
        /// cleared and reserved for the caller, who gives the reservation back or passes it on with <see cref="PutPairs"/>:
        /// a shelved chunk brings the reservation it kept on the shelf, a new one is reserved here.
        /// </summary>
        /// <exception cref="QueryMemoryLimitException">A new chunk would take the query past its limit.</exception>
        public LabelPair[] TakePairs(int length)
        {
            using (_lock.EnterScope())
            {
                var found = length == PairChunkLength ? TakeWhole() : TakeShort(length);
                if (found is not null)
                {
                    _pairBytes -= BytesOf(found);
                    return found;
                }
            }

            // A whole chunk is allocated, a short one rented (it may be longer than asked: all of it is reserved).
            var chunk = length == PairChunkLength ? new LabelPair[PairChunkLength] : ColumnPool.Rent<LabelPair>(length);
            try
            {
                memory?.Reserve(BytesOf(chunk));
            }
            catch (QueryMemoryLimitException)
            {
                if (chunk.Length < PairChunkLength)
                {
                    ColumnPool.Return(chunk);
                }

                throw;
            }

            return chunk;
        }

        /// <summary>
        /// Keeps a chunk of <see cref="PairChunkLength"/> pairs or fewer (cleared by the caller) for the next table that
        /// grows, with the caller's reservation of it: from now on the shelf counts it.
        /// </summary>
        public void PutPairs(LabelPair[] chunk)
        {
            using var held = _lock.EnterScope();
            _pairBytes += BytesOf(chunk);
            if (chunk.Length == PairChunkLength)
            {
                _pairChunks.Push(chunk);
                return;
            }

            _shortPairChunks.Add(chunk);
            if (_shortPairChunks.Count > MaxPerType)
            {
                var evicted = (LabelPair[])RemoveShortest(_shortPairChunks, 0)!;
                ColumnPool.Return(evicted);
                _pairBytes -= BytesOf(evicted);
                memory?.Release(BytesOf(evicted));
            }
        }

        /// <summary>An array at least <paramref name="length"/> long (the shortest such on the shelf), its content undefined.</summary>
        public T[] Take<T>(int length)
        {
            using var held = _lock.EnterScope();
            if (_free.TryGetValue(typeof(T), out var shelf) && RemoveShortest(shelf.Arrays, length) is { } found)
            {
                return (T[])found;
            }

            return ColumnPool.Rent<T>(Math.Max(16, length));
        }

        /// <summary>
        /// Puts an array back for a later slice (the shortest goes when the shelf is full); <paramref name="cleared"/> when
        /// the caller cleared what it used.
        /// </summary>
        public void Put<T>(T[] array, bool cleared = false)
        {
            if (array.Length == 0)
            {
                return;
            }

            if (!cleared && RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            {
                Array.Clear(array);
            }

            using var held = _lock.EnterScope();

            if (!_free.TryGetValue(typeof(T), out var shelf))
            {
                _free[typeof(T)] = shelf = ([], static a => ColumnPool.Return((T[])a));
            }

            var arrays = shelf.Arrays;
            arrays.Add(array);
            if (arrays.Count > MaxPerType)
            {
                ColumnPool.Return((T[])RemoveShortest(arrays, 0)!);
            }
        }

        /// <summary>
        /// Returns every array on the shelf to the shared pool, for later queries (whole pair chunks to the collector), and
        /// what the pair chunks kept reserved, when the query is done.
        /// </summary>
        public void Empty()
        {
            using var held = _lock.EnterScope();
            foreach (var (arrays, toPool) in _free.Values)
            {
                foreach (var array in arrays)
                {
                    toPool(array);
                }

                arrays.Clear();
            }

            foreach (var chunk in _shortPairChunks)
            {
                ColumnPool.Return((LabelPair[])chunk);
            }

            _shortPairChunks.Clear();
            _pairChunks.Clear();
            memory?.Release(_pairBytes);
            _pairBytes = 0;
        }

        private static long BytesOf(LabelPair[] chunk) => (long)chunk.Length * Unsafe.SizeOf<LabelPair>();

        // Called under the lock.
        private LabelPair[]? TakeWhole() => _pairChunks.TryPop(out var chunk) ? chunk : null;

        // The shortest shelved short chunk of at least length pairs; called under the lock.
        private LabelPair[]? TakeShort(int length) => (LabelPair[]?)RemoveShortest(_shortPairChunks, length);

        // Takes the shortest of arrays at least minLength long out of the list (the last takes its place); null when none is.
        private static Array? RemoveShortest(List<Array> arrays, int minLength)
        {
            var best = -1;
            for (var i = 0; i < arrays.Count; i++)
            {
                if (arrays[i].Length >= minLength && (best < 0 || arrays[i].Length < arrays[best].Length))
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return null;
            }

            var found = arrays[best];
            arrays[best] = arrays[^1];
            arrays.RemoveAt(arrays.Count - 1);
            return found;
        }
    }
}

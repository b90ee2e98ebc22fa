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
    /// </summary>
    private sealed class ArrayShelf
    {
        // More than a slice uses of one type at once (its columns and scratch arrays), so a slice always finds its own.
        private const int MaxPerType = 24;
        /// <summary>The label pairs in one chunk of a series key table, as a power of two (512 KB).</summary>
        public const int PairChunkBits = 15;

        public const int PairChunkLength = 1 << PairChunkBits;

        private readonly Dictionary<Type, (List<Array> Arrays, Action<Array> ToPool)> _free = [];
        // Chunks of series key tables, emptied; as many as the query's tables held at once, left to the collector when
        // it ends (the shared pool would keep them resident after the query).
        private readonly Stack<LabelPair[]> _pairChunks = new();
        private readonly Lock _lock = new();

        /// <summary>A chunk of <see cref="PairChunkLength"/> pairs, cleared.</summary>
        public LabelPair[] TakePairChunk()
        {
            using (_lock.EnterScope())
            {
                if (_pairChunks.TryPop(out var chunk))
                {
                    return chunk;
                }
            }

            return new LabelPair[PairChunkLength];
        }

        /// <summary>Keeps a chunk (cleared by the caller) for the next table that grows.</summary>
        public void PutPairChunk(LabelPair[] chunk)
        {
            using var held = _lock.EnterScope();
            _pairChunks.Push(chunk);
        }

        /// <summary>An array at least <paramref name="length"/> long (the shortest such on the shelf), its content undefined.</summary>
        public T[] Take<T>(int length)
        {
            using var held = _lock.EnterScope();
            if (_free.TryGetValue(typeof(T), out var shelf))
            {
                var arrays = shelf.Arrays;
                var best = -1;
                for (var i = 0; i < arrays.Count; i++)
                {
                    if (arrays[i].Length >= length && (best < 0 || arrays[i].Length < arrays[best].Length))
                    {
                        best = i;
                    }
                }

                if (best >= 0)
                {
                    var found = (T[])arrays[best];
                    arrays[best] = arrays[^1];
                    arrays.RemoveAt(arrays.Count - 1);
                    return found;
                }
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
                var shortest = 0;
                for (var i = 1; i < arrays.Count; i++)
                {
                    if (arrays[i].Length < arrays[shortest].Length)
                    {
                        shortest = i;
                    }
                }

                ColumnPool.Return((T[])arrays[shortest]);
                arrays[shortest] = arrays[^1];
                arrays.RemoveAt(arrays.Count - 1);
            }
        }

        /// <summary>Returns every array on the shelf to the shared pool, for later queries, when the query is done.</summary>
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

            _pairChunks.Clear();
        }
    }
}

using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// Where the evaluator's columns and scratch arrays come from and go back to.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>
    /// The shared pool for small arrays, a pool of bounded size for mid-sized ones; the largest are allocated for the query
    /// and left to the collector when it is done with them. The shared pool keeps every array returned to it (per thread
    /// and per core) until a full collection trims it, so the columns of a query of many series stayed resident after it
    /// and added to the next query's peak; within a query the logs and the shelf already reuse them across slices.
    /// </summary>
    private static class ColumnPool
    {
        // Up to this an array goes through the shared pool.
        private const long SharedBytes = 1 << 20;

        // Up to this an array is kept for later queries, but only while all such kept arrays stay within KeptBytes: the
        // record columns of a plain rate over tens of streams are this size, reused query after query, while a query of
        // hundreds of thousands of series (every line a series) returns far more than later queries reuse. Above this
        // an array is never kept: only such queries take them (a few per query, reused across its slices).
        private const long PooledBytes = 8 << 20;
        private const long KeptBytes = 32 << 20;
        private static readonly Lock KeptLock = new();
        private static readonly List<Array> Kept = [];
        private static long _keptBytes;

        public static T[] Rent<T>(int length)
        {
            var bytes = BytesOf<T>(length);
            if (bytes <= SharedBytes)
            {
                return ArrayPool<T>.Shared.Rent(length);
            }

            if (bytes > PooledBytes)
            {
                return GC.AllocateUninitializedArray<T>(length);
            }

            lock (KeptLock)
            {
                // The shortest that fits, and no more than twice the length.
                var best = -1;
                for (var i = 0; i < Kept.Count; i++)
                {
                    if (Kept[i] is T[] kept && kept.Length >= length && kept.Length <= 2L * length &&
                        (best < 0 || kept.Length < Kept[best].Length))
                    {
                        best = i;
                    }
                }

                if (best >= 0)
                {
                    var kept = (T[])Kept[best];
                    Kept[best] = Kept[^1];
                    Kept.RemoveAt(Kept.Count - 1);
                    _keptBytes -= BytesOf<T>(kept.Length);
                    return kept;
                }
            }

            // A power of two, as the shared pool's sizes, so a later query of a similar size finds it.
            return GC.AllocateUninitializedArray<T>((int)Math.Min(Array.MaxLength, BitOperations.RoundUpToPowerOf2((uint)length)));
        }

        /// <summary>Gives an array back (cleared first when <paramref name="clear"/> and it is kept).</summary>
        public static void Return<T>(T[] array, bool clear = false)
        {
            var bytes = BytesOf<T>(array.Length);
            if (array.Length == 0 || bytes > PooledBytes)
            {
                return;
            }

            if (bytes <= SharedBytes)
            {
                ArrayPool<T>.Shared.Return(array, clear);
                return;
            }

            if (clear)
            {
                // Before it is kept: from then on another query may rent it.
                Array.Clear(array);
            }

            lock (KeptLock)
            {
                if (_keptBytes + bytes <= KeptBytes)
                {
                    _keptBytes += bytes;
                    Kept.Add(array);
                }
            }
        }

        private static long BytesOf<T>(int length) => (long)length * Unsafe.SizeOf<T>();
    }
}

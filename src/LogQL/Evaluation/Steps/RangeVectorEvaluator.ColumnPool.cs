using System.Buffers;
using System.Runtime.CompilerServices;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// Where the evaluator's columns and scratch arrays come from and go back to.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>
    /// The shared pool for small arrays; large ones are allocated for the query and left to the collector when it is done
    /// with them. The shared pool keeps every array returned to it (per thread and per core) until a full collection
    /// trims it, so the large columns of a query of many series (label pairs above all) stayed resident after it and
    /// added to the next query's peak; within a query the logs and the shelf already reuse them across slices.
    /// </summary>
    private static class ColumnPool
    {
        // Above this an array is not pooled: only the columns of queries of hundreds of thousands of series are larger
        // (a few per query, reused across its slices), so allocating them costs little; smaller ones, which most queries
        // take anew each time, stay pooled.
        private const long PooledBytes = 8 << 20;

        public static T[] Rent<T>(int length) => IsLarge<T>(length)
            ? GC.AllocateUninitializedArray<T>(length)
            : ArrayPool<T>.Shared.Rent(length);

        /// <summary>Gives an array back (cleared first when <paramref name="clear"/> and it goes to the pool).</summary>
        public static void Return<T>(T[] array, bool clear = false)
        {
            if (array.Length > 0 && !IsLarge<T>(array.Length))
            {
                ArrayPool<T>.Shared.Return(array, clear);
            }
        }

        private static bool IsLarge<T>(int length) => (long)length * Unsafe.SizeOf<T>() > PooledBytes;
    }
}

using System.Runtime.CompilerServices;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// An append-only pooled column, the storage of the slice logs.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>
    /// An append-only array from the shared pool that grows by doubling (a struct, so a log's columns cost no extra
    /// objects; pooled, so the large ones do not churn the large object heap). Its size is reserved in the query's
    /// memory budget when it grows (rarely, so the check costs nothing per sample) and released with it.
    /// </summary>
    private struct GrowableArray<T>
    {
        private T[]? _items;
        private long _reserved;

        public int Count { get; private set; }

        public readonly ref T this[int index] => ref _items![index];

        public readonly ReadOnlySpan<T> AsSpan(int start, int length) => _items.AsSpan(start, length);

        public void Add(T item, QueryMemoryBudget? memory)
        {
            if (_items is null || Count == _items.Length)
            {
                Grow(memory);
            }

            _items![Count++] = item;
        }

        /// <summary>Empties the column but keeps its array (and what it reserved) for the next slice's log.</summary>
        public void Reset()
        {
            if (_items is not null && RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            {
                Array.Clear(_items, 0, Count);
            }

            Count = 0;
        }

        public void Release(QueryMemoryBudget? memory)
        {
            if (_items is not null)
            {
                // Pooled arrays of references are cleared, so they do not keep label sets alive.
                ColumnPool.Return(_items, RuntimeHelpers.IsReferenceOrContainsReferences<T>());
                _items = null;
            }

            memory?.Release(_reserved);
            _reserved = 0;
            Count = 0;
        }

        private void Grow(QueryMemoryBudget? memory)
        {
            var grown = ColumnPool.Rent<T>(Math.Max(16, Count * 2));
            if (memory is not null)
            {
                // The old array is still held while it is copied; what it held is released with it below.
                var bytes = (long)grown.Length * Unsafe.SizeOf<T>();
                memory.Reserve(bytes);
                memory.Release(_reserved);
                _reserved = bytes;
            }

            if (_items is not null)
            {
                _items.AsSpan(0, Count).CopyTo(grown);
                ColumnPool.Return(_items, RuntimeHelpers.IsReferenceOrContainsReferences<T>());
            }

            _items = grown;
        }
    }
}

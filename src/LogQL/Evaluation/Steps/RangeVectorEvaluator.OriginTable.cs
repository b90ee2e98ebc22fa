using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <content>
/// Where the runs of non-empty windows going on across a slice's end began, remembered for the next slice.
/// </content>
internal sealed partial class RangeVectorEvaluator
{
    /// <summary>
    /// Each remembered series' run's first step and first sample in the query, by its labels' pairs; no object per series,
    /// as it holds up to a slice's worth of them across the next slice's loading.
    /// </summary>
    private sealed class OriginTable(QueryMemoryBudget? memory, ArrayShelf shelf)
    {
        private readonly SeriesKeyTable _keys = new(memory, shelf);
        private GrowableArray<(int Step, long Timestamp)> _origins;

        public int Count => _keys.Count;

        public bool TryGet(ReadOnlySpan<LabelPair> key, int hash, out (int Step, long Timestamp) origin)
        {
            var found = _keys.Find(key, hash);
            origin = found < 0 ? default : _origins[found];
            return found >= 0;
        }

        /// <summary>Remembers the origin of a series not remembered yet.</summary>
        public void Add(ReadOnlySpan<LabelPair> key, int hash, (int Step, long Timestamp) origin)
        {
            _keys.Add(key, hash);
            _origins.Add(origin, memory);
        }

        /// <summary>Forgets every series, keeping the capacity.</summary>
        public void Clear()
        {
            _keys.Reset();
            _origins.Reset();
        }

        public void Release()
        {
            _keys.Release();
            _origins.Release(memory);
        }
    }
}

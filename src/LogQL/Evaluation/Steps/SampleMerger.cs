using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation.Steps;

/// <summary>
/// Merges time-ordered sample cursors into one time-ordered sequence (a binary heap keyed by timestamp, ties broken
/// by series labels then cursor order) and maps each sample to its series key.
/// </summary>
internal sealed class SampleMerger : IDisposable
{
    private readonly Func<LabelSet, LabelSet> _seriesKey;
    private readonly CursorState[] _heap;
    private int _count;

    public SampleMerger(IReadOnlyList<ISampleCursor> cursors, Func<LabelSet, LabelSet> seriesKey)
    {
        _seriesKey = seriesKey;
        _heap = new CursorState[cursors.Count];
        for (var i = 0; i < cursors.Count; i++)
        {
            var state = new CursorState(cursors[i], i);
            if (state.Advance())
            {
                _heap[_count++] = state;
            }
            else
            {
                state.Cursor.Dispose();
            }
        }

        for (var i = (_count / 2) - 1; i >= 0; i--)
        {
            Down(i);
        }
    }

    /// <summary>Whether a current sample exists.</summary>
    public bool HasCurrent => _count > 0;

    /// <summary>The current sample's timestamp.</summary>
    public long TimestampNs => _heap[0].TimestampNs;

    /// <summary>The current sample's value.</summary>
    public double Value => _heap[0].Value;

    /// <summary>The current sample's series key (its labels after the evaluator's grouping).</summary>
    public LabelSet SeriesKey
    {
        get
        {
            var top = _heap[0];
            var labels = top.Cursor.Labels;
            if (!ReferenceEquals(labels, top.LastLabels))
            {
                top.LastLabels = labels;
                top.LastKey = _seriesKey(labels);
                top.Slot = null;
            }

            return top.LastKey!;
        }
    }

    /// <summary>
    /// Whatever the caller associated with the current sample's series on this cursor (its window, say), kept while
    /// the cursor's label set instance stays the same, so consecutive samples skip the series lookup. Set it only
    /// after reading <see cref="SeriesKey"/>.
    /// </summary>
    public object? CurrentSlot
    {
        get
        {
            var top = _heap[0];
            return ReferenceEquals(top.Cursor.Labels, top.LastLabels) ? top.Slot : null;
        }

        set => _heap[0].Slot = value;
    }

    /// <summary>Consumes the current sample.</summary>
    public void MoveNext()
    {
        var top = _heap[0];
        if (top.Advance())
        {
            Down(0);
            return;
        }

        top.Cursor.Dispose();
        _count--;
        if (_count > 0)
        {
            _heap[0] = _heap[_count];
            Down(0);
        }

        _heap[_count] = null!;
    }

    public void Dispose()
    {
        for (var i = 0; i < _count; i++)
        {
            _heap[i].Cursor.Dispose();
        }

        _count = 0;
    }

    private static bool Less(CursorState a, CursorState b)
    {
        if (a.TimestampNs != b.TimestampNs)
        {
            return a.TimestampNs < b.TimestampNs;
        }

        var byLabels = string.CompareOrdinal(a.Cursor.Labels.ToString(), b.Cursor.Labels.ToString());
        return byLabels != 0 ? byLabels < 0 : a.Order < b.Order;
    }

    private void Down(int i)
    {
        while (true)
        {
            var left = (2 * i) + 1;
            if (left >= _count)
            {
                return;
            }

            var smallest = left;
            if (left + 1 < _count && Less(_heap[left + 1], _heap[left]))
            {
                smallest = left + 1;
            }

            if (!Less(_heap[smallest], _heap[i]))
            {
                return;
            }

            (_heap[i], _heap[smallest]) = (_heap[smallest], _heap[i]);
            i = smallest;
        }
    }

    private sealed class CursorState(ISampleCursor cursor, int order)
    {
        public ISampleCursor Cursor { get; } = cursor;

        public int Order { get; } = order;

        public long TimestampNs { get; private set; }

        public double Value { get; private set; }

        public LabelSet? LastLabels { get; set; }

        public LabelSet? LastKey { get; set; }

        public object? Slot { get; set; }

        public bool Advance()
        {
            if (!Cursor.MoveNext())
            {
                return false;
            }

            TimestampNs = Cursor.TimestampNs;
            Value = Cursor.Value;
            return true;
        }
    }
}

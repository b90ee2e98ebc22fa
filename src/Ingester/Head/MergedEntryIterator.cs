using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// Merges two time-ordered entry iterators (a head block's compressed parts and its uncompressed tail) into one,
/// in the query's direction. Each side's current entry stays valid until that side is advanced.
/// </summary>
internal sealed class MergedEntryIterator(IEntryIterator first, IEntryIterator second, Direction direction) : IEntryIterator
{
    private bool _started;
    private bool _firstLive;
    private bool _secondLive;
    private bool _currentIsFirst;

    public LogEntry Current => _currentIsFirst ? first.Current : second.Current;

    public ReadStats Stats
    {
        get
        {
            var stats = new ReadStats();
            stats.Add(first.Stats);
            stats.Add(second.Stats);
            return stats;
        }
    }

    public IReadOnlyList<string> Warnings => first.Warnings.Count == 0 ? second.Warnings : [.. first.Warnings, .. second.Warnings];

    public bool MoveNext()
    {
        if (!_started)
        {
            _started = true;
            _firstLive = first.MoveNext();
            _secondLive = second.MoveNext();
        }
        else if (_currentIsFirst)
        {
            _firstLive = first.MoveNext();
        }
        else
        {
            _secondLive = second.MoveNext();
        }

        if (!_firstLive && !_secondLive)
        {
            return false;
        }

        if (_firstLive && _secondLive)
        {
            var a = first.Current.Timestamp;
            var b = second.Current.Timestamp;
            _currentIsFirst = direction == Direction.Forward ? a <= b : a >= b;
        }
        else
        {
            _currentIsFirst = _firstLive;
        }

        return true;
    }

    public bool HandsOutRuns => direction == Direction.Forward && (first.HandsOutRuns || second.HandsOutRuns);

    /// <summary>
    /// A run of the side the current entry is from, up to the other side's current entry: the first side's entries come
    /// first on equal timestamps, so its run takes those too.
    /// </summary>
    public bool TryTakeRun(long before, out EntryRun run)
    {
        if (!_started || direction != Direction.Forward || !(_firstLive || _secondLive))
        {
            run = default;
            return false;
        }

        if (_currentIsFirst)
        {
            if (_secondLive)
            {
                var other = second.Current.Timestamp;
                before = Math.Min(before, other == long.MaxValue ? other : other + 1);
            }

            return first.TryTakeRun(before, out run);
        }

        if (_firstLive)
        {
            before = Math.Min(before, first.Current.Timestamp);
        }

        return second.TryTakeRun(before, out run);
    }

    public void Dispose()
    {
        first.Dispose();
        second.Dispose();
    }
}

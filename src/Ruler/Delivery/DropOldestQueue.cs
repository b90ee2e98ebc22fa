namespace LokiSharp.Ruler.Delivery;

/// <summary>
/// A bounded FIFO that never blocks the producer: when full, the oldest items make room for the new ones (as
/// Prometheus' notifier queue does), and the caller learns how many were dropped so it can count them.
/// </summary>
internal sealed class DropOldestQueue<T>
{
    private readonly Queue<T> _items = new();
    private readonly SemaphoreSlim _signal = new(0, 1);

    public DropOldestQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count
    {
        get
        {
            lock (_items)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Appends <paramref name="items"/> and returns how many items (old or new) were dropped.</summary>
    public int Enqueue(IReadOnlyList<T> items)
    {
        // More new items than the queue holds: only the newest fit.
        var first = Math.Max(0, items.Count - Capacity);
        var dropped = first;
        lock (_items)
        {
            for (var i = first; i < items.Count; i++)
            {
                if (_items.Count == Capacity)
                {
                    _items.Dequeue();
                    dropped++;
                }

                _items.Enqueue(items[i]);
            }
        }

        Signal();
        return dropped;
    }

    /// <summary>Removes and returns up to <paramref name="max"/> of the oldest items (none when empty).</summary>
    public List<T> Take(int max)
    {
        lock (_items)
        {
            var batch = new List<T>(Math.Min(max, _items.Count));
            while (batch.Count < max && _items.TryDequeue(out var item))
            {
                batch.Add(item);
            }

            return batch;
        }
    }

    /// <summary>Completes when items may have arrived since the last wait.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _signal.WaitAsync(cancellationToken);

    private void Signal()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Another producer signalled between the check and the release: one signal is enough.
        }
    }
}

namespace LokiSharp.Ingester.Push;

/// <summary>
/// A few objects a push uses while it is in flight (its lists), kept for later pushes instead of allocated per push: as
/// many as pushes run at once on a small box. Lock-free; a miss creates, a surplus is left to the GC.
/// </summary>
internal sealed class SpareObjects<T>(int slots)
    where T : class
{
    private readonly T?[] _slots = new T?[slots];

    /// <summary>A kept object, or null when none is.</summary>
    public T? Take()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.Exchange(ref _slots[i], null) is { } spare)
            {
                return spare;
            }
        }

        return null;
    }

    /// <summary>Keeps <paramref name="spare"/> (already cleared by the caller) if a slot is free.</summary>
    public void Give(T spare)
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _slots[i], spare, null) is null)
            {
                return;
            }
        }
    }
}

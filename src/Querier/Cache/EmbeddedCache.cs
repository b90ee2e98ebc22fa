namespace LokiSharp.Querier.Cache;

/// <summary>The bounds of an <see cref="EmbeddedCache{TValue}"/>, as Loki's <c>embedded_cache</c> block sets them.</summary>
/// <param name="MaxBytes">Most bytes of values held (<c>max_size_mb</c> × 10⁶); 0 for no byte bound.</param>
/// <param name="MaxItems">Most entries held (<c>max_size_items</c>); 0 for no count bound.</param>
/// <param name="Ttl">How long an entry lives after it was last written (<c>ttl</c>); zero or less keeps entries until evicted.</param>
public sealed record EmbeddedCacheLimits(long MaxBytes, int MaxItems, TimeSpan Ttl)
{
    /// <summary>
    /// The bounds of an <c>embedded_cache</c> block (<c>max_size_mb</c>, <c>max_size_items</c>, <c>ttl</c>), or null
    /// when both size bounds are zero or less: then there is no cache.
    /// </summary>
    public static EmbeddedCacheLimits? FromConfig(int maxSizeMb, int maxSizeItems, TimeSpan ttl) =>
        maxSizeMb <= 0 && maxSizeItems <= 0 ? null : new EmbeddedCacheLimits(Math.Max(0, maxSizeMb) * 1_000_000L, Math.Max(0, maxSizeItems), ttl);
}

/// <summary>What an <see cref="EmbeddedCache{TValue}"/> reports, for its metrics.</summary>
public interface IEmbeddedCacheObserver
{
    /// <summary>A lookup of one key; <paramref name="hit"/> when a live entry was found.</summary>
    void Fetched(bool hit);

    /// <summary>A key that was not in the cache was added.</summary>
    void Added();

    /// <summary>An entry left the cache: <c>expired</c>, <c>full</c>, <c>object too big</c> or <c>replaced</c> (Loki's reasons).</summary>
    void Evicted(string reason);

    /// <summary>The cache now holds <paramref name="entries"/> entries of <paramref name="bytes"/> bytes.</summary>
    void Size(int entries, long bytes);
}

/// <summary>
/// An in-process cache bounded by bytes and entry count, least recently used first out, with entries expiring
/// <c>ttl</c> after their last write, as Loki's embedded cache behaves. Values are immutable; <see cref="Update"/>
/// replaces a value atomically with one computed from the current one, so concurrent writers merge instead of
/// overwriting each other. Thread-safe.
/// </summary>
public sealed class EmbeddedCache<TValue>
    where TValue : class
{
    // Loki purges expired entries every minute; between purges a lookup ignores an expired entry.
    private static readonly TimeSpan PurgeInterval = TimeSpan.FromMinutes(1);

    private readonly EmbeddedCacheLimits _limits;
    private readonly Func<TValue, long> _sizeOf;
    private readonly IEmbeddedCacheObserver? _observer;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private readonly Lock _lock = new();
    private long _bytes;
    private DateTimeOffset _nextPurge;

    /// <summary>Creates a cache; <paramref name="sizeOf"/> estimates the bytes a value holds (key included by the cache).</summary>
    public EmbeddedCache(EmbeddedCacheLimits limits, Func<TValue, long> sizeOf, IEmbeddedCacheObserver? observer = null, TimeProvider? time = null)
    {
        _limits = limits;
        _sizeOf = sizeOf;
        _observer = observer;
        _time = time ?? TimeProvider.System;
        _nextPurge = _time.GetUtcNow() + PurgeInterval;
    }

    /// <summary>Entries held.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Bytes held, as estimated.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>The live value of <paramref name="key"/>, marking it recently used.</summary>
    public bool TryGet(string key, out TValue? value)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            value = null;
            if (_entries.TryGetValue(key, out var node))
            {
                if (IsExpired(node.Value, now))
                {
                    Remove(node, "expired");
                }
                else
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    value = node.Value.Value;
                }
            }

            _observer?.Fetched(value is not null);
            return value is not null;
        }
    }

    /// <summary>
    /// Stores <c>update(current)</c> under <paramref name="key"/>, where current is the live value or null, under the
    /// cache's lock: <paramref name="update"/> must be quick and must not touch the cache.
    /// </summary>
    public void Update(string key, Func<TValue?, TValue> update)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (now >= _nextPurge)
            {
                Purge(now);
            }

            TValue? current = null;
            if (_entries.TryGetValue(key, out var existing))
            {
                if (!IsExpired(existing.Value, now))
                {
                    current = existing.Value.Value;
                }

                Remove(existing, current is null ? "expired" : "replaced");
            }

            var value = update(current);
            var size = _sizeOf(value) + (key.Length * sizeof(char));
            if (_limits.MaxBytes > 0 && size > _limits.MaxBytes)
            {
                _observer?.Evicted("object too big");
                Report();
                return;
            }

            var node = _recency.AddFirst(new Entry(key, value, size, now));
            _entries[key] = node;
            _bytes += size;
            if (current is null)
            {
                _observer?.Added();
            }

            while ((_limits.MaxBytes > 0 && _bytes > _limits.MaxBytes) || (_limits.MaxItems > 0 && _entries.Count > _limits.MaxItems))
            {
                Remove(_recency.Last!, "full");
            }

            Report();
        }
    }

    private bool IsExpired(Entry entry, DateTimeOffset now) => _limits.Ttl > TimeSpan.Zero && now - entry.Written > _limits.Ttl;

    private void Purge(DateTimeOffset now)
    {
        _nextPurge = now + PurgeInterval;
        var node = _recency.First;
        while (node is not null)
        {
            var next = node.Next;
            if (IsExpired(node.Value, now))
            {
                Remove(node, "expired");
            }

            node = next;
        }
    }

    private void Remove(LinkedListNode<Entry> node, string reason)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
        _observer?.Evicted(reason);
        Report();
    }

    private void Report() => _observer?.Size(_entries.Count, _bytes);

    private sealed record Entry(string Key, TValue Value, long Size, DateTimeOffset Written);
}

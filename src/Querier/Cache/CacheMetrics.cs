using Prometheus;

namespace LokiSharp.Querier.Cache;

/// <summary>
/// Loki's metrics of an instrumented embedded cache: <c>loki_cache_fetched_keys</c> and <c>loki_cache_hits</c>
/// (label <c>name</c>), and <c>loki_embeddedcache_added_new_total</c>, <c>_evicted_total</c> (by reason),
/// <c>_entries</c> and <c>_memory_bytes</c> (label <c>cache</c>).
/// </summary>
public sealed class CacheMetrics : IEmbeddedCacheObserver
{
    /// <summary>The name Loki gives the query-range results cache when it is the embedded one.</summary>
    public const string ResultsCacheName = "frontend.embedded-cache";

    private readonly Counter.Child _fetched;
    private readonly Counter.Child _hits;
    private readonly Counter.Child _added;
    private readonly Counter _evicted;
    private readonly string _name;
    private readonly Gauge.Child _entries;
    private readonly Gauge.Child _bytes;

    public CacheMetrics(IMetricFactory factory, string name)
    {
        _name = name;
        _fetched = factory.CreateCounter("loki_cache_fetched_keys", "Total count of keys requested from cache.", ["name"]).WithLabels(name);
        _hits = factory.CreateCounter("loki_cache_hits", "Total count of keys found in cache.", ["name"]).WithLabels(name);
        _added = factory.CreateCounter("loki_embeddedcache_added_new_total", "The total number of new entries added to the cache", ["cache"]).WithLabels(name);
        _evicted = factory.CreateCounter("loki_embeddedcache_evicted_total", "The total number of evicted entries", ["cache", "reason"]);
        _entries = factory.CreateGauge("loki_embeddedcache_entries", "Current number of entries in the cache", ["cache"]).WithLabels(name);
        _bytes = factory.CreateGauge("loki_embeddedcache_memory_bytes", "The current cache size in bytes", ["cache"]).WithLabels(name);
    }

    /// <inheritdoc />
    public void Fetched(bool hit)
    {
        _fetched.Inc();
        if (hit)
        {
            _hits.Inc();
        }
    }

    /// <inheritdoc />
    public void Added() => _added.Inc();

    /// <inheritdoc />
    public void Evicted(string reason) => _evicted.WithLabels(_name, reason).Inc();

    /// <inheritdoc />
    public void Size(int entries, long bytes)
    {
        _entries.Set(entries);
        _bytes.Set(bytes);
    }
}

using LokiSharp.Storage.Store;
using Prometheus;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// The metrics of a chunk store over a bucket, read from the store at every scrape:
/// <c>loki_lokisharp_object_store_failures_total{operation}</c> (failed object store operations: put, get, refresh),
/// <c>loki_lokisharp_object_store_unreachable</c> (1 while the last operation failed for the store's sake), and the
/// chunk cache as Loki names its caches' counters: <c>loki_cache_fetched_keys</c> and <c>loki_cache_hits</c> with
/// <c>name="chunks-disk-cache"</c>.
/// </summary>
internal sealed class ObjectStoreMetrics : IDisposable
{
    private const string CacheName = "chunks-disk-cache";

    private static readonly Counter Failures = Metrics.CreateCounter("loki_lokisharp_object_store_failures_total",
        "Object store operations that failed, per operation (put, get, refresh).", ["operation"]);

    private static readonly Gauge Unreachable = Metrics.CreateGauge("loki_lokisharp_object_store_unreachable",
        "1 while the object store does not answer (the last operation failed for the store's sake), else 0.");

    private static readonly Counter FetchedKeys = Metrics.CreateCounter("loki_cache_fetched_keys",
        "Total count of keys requested from the cache.", ["name"]);

    private static readonly Counter Hits = Metrics.CreateCounter("loki_cache_hits",
        "Total count of keys found in the cache.", ["name"]);

    private readonly ChunkStore _store;
    private volatile bool _disposed;

    public ObjectStoreMetrics(ChunkStore store)
    {
        _store = store;
        Metrics.DefaultRegistry.AddBeforeCollectCallback(Update);
        Update();
    }

    public void Dispose() => _disposed = true;

    private void Update()
    {
        if (_disposed || _store.BucketHealth is not { } health)
        {
            return;
        }

        foreach (var (operation, count) in health.Failures)
        {
            Failures.WithLabels(operation).IncTo(count);
        }

        Unreachable.Set(health.Unreachable ? 1 : 0);
        var (hits, misses) = _store.ChunkCacheCounts;
        FetchedKeys.WithLabels(CacheName).IncTo(hits + misses);
        Hits.WithLabels(CacheName).IncTo(hits);
    }
}

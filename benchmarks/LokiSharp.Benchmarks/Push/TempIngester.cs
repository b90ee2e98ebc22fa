using LokiSharp.Ingester;
using LokiSharp.Ingester.Limits;
using LokiSharp.Ingester.Push;
using LokiSharp.Storage.Store;
using Prometheus;

namespace LokiSharp.Benchmarks.Push;

/// <summary>
/// An ingester with its WAL and chunk store in a temporary directory, as the single binary runs it, with limits
/// that never push back (the benchmarks measure the work, not the 429s). Dispose deletes the directory.
/// </summary>
internal sealed class TempIngester : IDisposable
{
    public const string Tenant = "bench";

    private static readonly IngestionLimits Unlimited = new()
    {
        IngestionRateBytes = double.MaxValue,
        IngestionBurstBytes = double.MaxValue,
        PerStreamRateLimit = 1L << 50,
        PerStreamRateLimitBurst = 1L << 50,
    };

    private readonly string _directory = Directory.CreateTempSubdirectory("lokisharp-bench-ingester-").FullName;

    public TempIngester()
    {
        Store = ChunkStore.Open(new StorageOptions { RootDirectory = Path.Combine(_directory, "chunks") });
        var options = new IngesterOptions
        {
            WalDirectory = Path.Combine(_directory, "wal"),

            // Flushes happen when a benchmark asks for them, never in the middle of a measurement.
            FlushCheckPeriod = TimeSpan.FromHours(1),
            MaxHeadBytes = long.MaxValue,
        };

        // The class is being renamed to StreamIngester; this is the one place that names it.
        Ingester = new StreamIngester(options, Store, new FixedLimits(Unlimited),
            new IngesterMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), TimeProvider.System);
        Ingester.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public StreamIngester Ingester { get; }

    public ChunkStore Store { get; }

    /// <summary>Pushes <paramref name="batch"/> for <see cref="Tenant"/>; fails unless every entry was accepted.</summary>
    public async Task PushAsync(PushBatch batch)
    {
        var outcome = await Ingester.PushAsync(Tenant, batch, CancellationToken.None).ConfigureAwait(false);
        if (outcome.StatusCode != 204)
        {
            throw new InvalidOperationException($"push answered {outcome.StatusCode}: {outcome.Message}");
        }
    }

    /// <summary>Stores the whole head in the chunk store (and lets the WAL drop its segments).</summary>
    public void FlushAll() => Ingester.FlushAsync(force: true, CancellationToken.None).GetAwaiter().GetResult();

    public void Dispose()
    {
        Ingester.Dispose();
        Store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private sealed class FixedLimits(IngestionLimits limits) : ITenantLimits
    {
        public IngestionLimits For(string tenant) => limits;
    }
}

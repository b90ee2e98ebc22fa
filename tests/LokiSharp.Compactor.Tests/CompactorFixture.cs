using LokiSharp.Compactor.Retention;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;
using Prometheus;

namespace LokiSharp.Compactor.Tests;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// A store and a compactor over temporary directories, reopenable to simulate a restart after a crash.
/// </summary>
internal sealed class CompactorFixture : IDisposable
{
    public const long Second = 1_000_000_000L;
    public const long Hour = 3600 * Second;
    public const long Day = 24 * Hour;

    // 2024-03-01T00:00:00Z
    public static readonly DateTimeOffset Start = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string _root = Directory.CreateTempSubdirectory("lokisharp-compactor-").FullName;
    private readonly Func<string, RetentionPolicy> _policy;
    private readonly CompactorOptions _options;

    private readonly bool _bucket;
    private int _reopened;

    /// <param name="policy">Retention of each tenant.</param>
    /// <param name="deleteDelay">retention_delete_delay.</param>
    /// <param name="cancelPeriod">delete_request_cancel_period.</param>
    /// <param name="bucket">
    /// Keep chunks in a bucket (a <see cref="Storage.Objects.FileSystemObjectStore"/> under <see cref="BucketPath"/>) as a
    /// single binary on s3 does: writer <c>ingester-0</c> and the compactor in one process.
    /// </param>
    public CompactorFixture(Func<string, RetentionPolicy> policy, TimeSpan? deleteDelay = null,
        TimeSpan? cancelPeriod = null, bool bucket = false)
    {
        _bucket = bucket;
        _policy = policy;
        _options = new CompactorOptions
        {
            WorkingDirectory = Path.Combine(_root, "compactor"),
            RetentionEnabled = true,
            RetentionDeleteDelay = deleteDelay ?? TimeSpan.FromHours(2),
            DeleteRequestCancelPeriod = cancelPeriod ?? TimeSpan.FromHours(24),
        };
        Reopen();
    }

    public ManualClock Clock { get; } = new(Start);

    public ChunkStore Store { get; private set; } = null!;

    public StoreCompactor Compactor { get; private set; } = null!;

    /// <summary>Corrupt data the store reported (what the host logs and counts).</summary>
    public List<StorageCorruption> Corruptions { get; } = [];

    /// <summary>The directory of <paramref name="tenant"/>'s pack files.</summary>
    public string ChunksDirectory(string tenant) => Path.Combine(_root, "chunks", tenant, "chunks");

    public static long NowNs(DateTimeOffset time) => time.ToUnixTimeMilliseconds() * 1_000_000L;

    public static LabelSet Labels(params (string, string)[] pairs) => LabelSet.From(pairs);

    /// <summary>The bucket's directory (bucket mode).</summary>
    public string BucketPath => Path.Combine(_root, "bucket");

    /// <summary>The compactor's working directory.</summary>
    public string WorkingDirectory => _options.WorkingDirectory;

    /// <summary>
    /// Restarts: drops the store and compactor without any shutdown work and opens them again. In bucket mode the new
    /// compactor gets a later epoch, and with <paramref name="emptyWorkingDirectory"/> it starts on an empty working
    /// directory, as a backend pod that moved.
    /// </summary>
    public void Reopen(bool emptyWorkingDirectory = false)
    {
        Store?.Dispose();
        if (emptyWorkingDirectory && Directory.Exists(_options.WorkingDirectory))
        {
            Directory.Delete(_options.WorkingDirectory, recursive: true);
        }

        var storage = new StorageOptions
        {
            RootDirectory = Path.Combine(_root, "chunks"),
            SealGracePeriod = TimeSpan.FromHours(2),
            OnCorruption = Corruptions.Add,
        };
        Store = _bucket
            ? OpenBucket("ingester-0", Clock.Now.UtcTicks + ++_reopened, "cache" + _reopened)
            : ChunkStore.Open(storage);
        var registry = Metrics.NewCustomRegistry();
        Compactor = new StoreCompactor(Store, _options, _policy,
            new CompactorMetrics(Metrics.WithCustomRegistry(registry)), Clock);
    }

    /// <summary>Another process on the fixture's bucket: a reader (no writer, no epoch) or a second compactor.</summary>
    public ChunkStore OpenBucket(string? writer, long? epoch, string cache) => ChunkStore.OpenBucket(
        new StorageOptions { RootDirectory = Path.Combine(_root, "chunks-" + cache), OnCorruption = Corruptions.Add },
        new Storage.Objects.FileSystemObjectStore(BucketPath),
        new Storage.Bucket.BucketOptions { Writer = writer, CompactorEpoch = epoch, ChunkCacheDirectory = Path.Combine(_root, cache) });

    /// <summary>A compactor over <paramref name="store"/> with the fixture's settings and clock.</summary>
    public StoreCompactor CompactorOver(ChunkStore store, string workingDirectory, string name) =>
        new(store, new CompactorOptions
        {
            WorkingDirectory = Path.Combine(_root, workingDirectory),
            RetentionEnabled = true,
            RetentionDeleteDelay = _options.RetentionDeleteDelay,
            DeleteRequestCancelPeriod = _options.DeleteRequestCancelPeriod,
            InstanceName = name,
        }, _policy, new CompactorMetrics(Metrics.WithCustomRegistry(Metrics.NewCustomRegistry())), Clock);

    /// <summary>Writes one chunk (its own pack) of <paramref name="count"/> lines spaced by <paramref name="step"/>.</summary>
    public void Write(string tenant, LabelSet labels, long from, long step, int count, string prefix = "line")
    {
        using var builder = new ChunkBuilder(ChunkEncoding.Snappy, 4096);
        for (var i = 0; i < count; i++)
        {
            builder.Append(from + (i * step), $"{prefix} {i}");
        }

        using var output = new PooledBufferWriter();
        var summary = builder.Finish(output);
        Store.Write(tenant, [new ChunkWrite(labels, output.WrittenSpan.ToArray(), summary)]);
    }

    public List<(long Ts, string Line)> Read(string tenant, LabelSet labels, ILogSource? source = null)
    {
        var result = new List<(long, string)>();
        using var it = (source ?? Store).OpenEntries(tenant, new SelectedStream(labels, 0),
            new EntryQuery(long.MinValue / 2, long.MaxValue / 2));
        while (it.MoveNext())
        {
            result.Add((it.Current.Timestamp, System.Text.Encoding.UTF8.GetString(it.Current.Line)));
        }

        Assert.Empty(it.Warnings);
        return result;
    }

    public CompactionReport Run(DateTimeOffset at)
    {
        Clock.Now = at;
        return Compactor.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        Store?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; the OS temp cleaner gets the rest.
        }
    }
}

using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Bucket;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Objects;

namespace LokiSharp.Storage.Tests.Bucket;

/// <summary>A file system bucket in a temp directory, with helpers to write segments and read a table.</summary>
internal sealed class BucketFixture : IDisposable
{
    public const string Tenant = "fake";
    public const string Table = "index_19723";
    public const long PeriodStart = 19723 * TestData.Day;

    private readonly TempDirectory _dir = new();

    public BucketFixture() => Store = new CountingStore(new FileSystemObjectStore(_dir.Path));

    public CountingStore Store { get; }

    public string RootPath => _dir.Path;

    public PackHandles Packs { get; } = new();

    public List<(string Key, string Message)> Damage { get; } = [];

    public static LabelSet App(string name) => TestData.Labels(("app", name));

    public static ChunkRef Chunk(long packId, long offset = 8, long from = PeriodStart) =>
        new(packId, offset, 100, from, from + TestData.Second, 10, 1000);

    public BucketIndexReader Reader() =>
        new(Store, Tenant, Table, Packs, (key, message) => Damage.Add((key, message)));

    public Task<string> WriteAsync(SegmentWriter writer, params (LabelSet Labels, ChunkRef Chunk)[] chunks) =>
        writer.WriteAsync(Tenant, Table, PeriodStart, TestData.Day, chunks);

    public Task PutGenerationAsync(int number, long epoch, Dictionary<string, long> coverage,
        params (LabelSet Labels, string Writer, ChunkRef Chunk)[] chunks) =>
        Store.PutAsync(BucketKeys.Generation(Tenant, Table, number, epoch),
            GenerationFile.Encode(PeriodStart, TestData.Day, number, epoch, coverage, chunks));

    /// <summary>The chunks of the table as (writer, pack id, offset), whatever handles they got.</summary>
    public HashSet<(string Writer, long PackId, long Offset)> ChunksOf(BucketIndexReader reader)
    {
        var result = new HashSet<(string, long, long)>();
        foreach (var (_, chunks) in reader.Index.Snapshot())
        {
            foreach (var chunk in chunks)
            {
                var (writer, packId) = Packs.PackOf(chunk.PackId);
                result.Add((writer, packId, chunk.Offset));
            }
        }

        return result;
    }

    public void Dispose()
    {
        Store.Dispose();
        _dir.Dispose();
    }

    /// <summary>Counts GETs and ranged reads, and can pretend not to support create-only puts.</summary>
    internal sealed class CountingStore(IObjectStore inner) : IObjectStore
    {
        private int _gets;
        private int _reads;

        public int Gets => _gets;

        public int Reads => _reads;

        public bool CreateOnlyDisabled { get; set; }

        public bool SupportsCreateOnly => !CreateOnlyDisabled && inner.SupportsCreateOnly;

        public Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
            inner.PutAsync(key, content, cancellationToken);

        public Task PutAsync(string key, Stream content, CancellationToken cancellationToken = default) =>
            inner.PutAsync(key, content, cancellationToken);

        public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
            SupportsCreateOnly ? inner.TryCreateAsync(key, content, cancellationToken) : throw new NotSupportedException();

        public Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _gets);
            return inner.GetAsync(key, cancellationToken);
        }

        public Task<int> ReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            return inner.ReadAsync(key, offset, destination, cancellationToken);
        }

        public Task<long?> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);

        /// <summary>Object keys returned by listings so far.</summary>
        public int Listed => ListedKeys.Count;

        public System.Collections.Concurrent.ConcurrentQueue<string> ListedKeys { get; } = new();

        public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var info in inner.ListAsync(prefix, cancellationToken))
            {
                ListedKeys.Enqueue(info.Key);
                yield return info;
            }
        }

        public IAsyncEnumerable<string> ListPrefixesAsync(string prefix, CancellationToken cancellationToken = default) =>
            inner.ListPrefixesAsync(prefix, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        public void Dispose() => inner.Dispose();
    }
}

using System.Buffers;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Storage.Bucket;

/// <summary>
/// A bounded local disk cache of chunk bytes read from the bucket, least recently used first out, by bytes: one
/// file per chunk under <see cref="Directory"/>. Chunks are immutable, so an entry never goes stale. The cache
/// belongs to one process and starts empty (what a previous run left is deleted). Thread-safe.
/// </summary>
internal sealed class ChunkCache
{
    private readonly Lock _lock = new();
    private readonly LinkedList<(string Name, long Bytes)> _order = new();
    private readonly Dictionary<string, LinkedListNode<(string Name, long Bytes)>> _entries = new(StringComparer.Ordinal);
    private long _bytes;
    private long _hits;
    private long _misses;
    private long _tempId;

    /// <summary>Creates the cache, emptying <paramref name="directory"/>.</summary>
    public ChunkCache(string directory, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        Directory = directory;
        MaxBytes = maxBytes;
        if (System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }

        System.IO.Directory.CreateDirectory(directory);
    }

    /// <summary>Where the cached chunks are.</summary>
    public string Directory { get; }

    /// <summary>The most bytes kept; 0 caches nothing.</summary>
    public long MaxBytes { get; }

    /// <summary>Chunk reads answered from the cache.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Chunk reads that went to the bucket.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Bytes held now.</summary>
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

    /// <summary>
    /// The cached bytes of <paramref name="name"/> (exactly <paramref name="length"/> of them) in a rented buffer, or
    /// null on a miss (counted).
    /// </summary>
    public byte[]? TryRead(string name, int length)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(name, out var node) || node.Value.Bytes != length)
            {
                _misses++;
                return null;
            }

            _order.Remove(node);
            _order.AddFirst(node);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            using var handle = File.OpenHandle(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            if (FileReads.ReadFully(handle, buffer.AsSpan(0, length), 0) == length)
            {
                Interlocked.Increment(ref _hits);
                return buffer;
            }
        }
        catch (IOException)
        {
            // Evicted between the lookup and the open, or the disk failed: read from the bucket (and cache it) again.
            lock (_lock)
            {
                if (_entries.Remove(name, out var node))
                {
                    _order.Remove(node);
                    _bytes -= node.Value.Bytes;
                }
            }
        }

        ArrayPool<byte>.Shared.Return(buffer);
        Interlocked.Increment(ref _misses);
        return null;
    }

    /// <summary>Keeps a copy of a chunk read from the bucket, evicting the least recently used ones beyond the bound.</summary>
    public void Add(string name, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBytes)
        {
            return;
        }

        lock (_lock)
        {
            if (_entries.ContainsKey(name))
            {
                return;
            }
        }

        var path = PathOf(name);
        var temp = path + ".tmp-" + Interlocked.Increment(ref _tempId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            // No fsync: a cache file lost in a crash is refetched, and a new process starts with an empty cache.
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                file.Write(bytes);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (IOException)
        {
            // A full or failing cache disk costs refetches, never a query.
            TryDelete(temp);
            return;
        }
        catch (UnauthorizedAccessException)
        {
            TryDelete(temp);
            return;
        }

        var evicted = new List<string>();
        lock (_lock)
        {
            if (_entries.ContainsKey(name))
            {
                return;
            }

            _entries[name] = _order.AddFirst((name, bytes.Length));
            _bytes += bytes.Length;
            while (_bytes > MaxBytes && _order.Last is { } last)
            {
                _order.RemoveLast();
                _entries.Remove(last.Value.Name);
                _bytes -= last.Value.Bytes;
                evicted.Add(last.Value.Name);
            }
        }

        foreach (var old in evicted)
        {
            TryDelete(PathOf(old));
        }
    }

    private string PathOf(string name) => Path.Combine(Directory, name);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

namespace LokiSharp.Storage.Bucket;

/// <summary>
/// Process-local ids for the packs of a tenant's bucket: a chunk's identity there is (writer, pack id, offset),
/// and the reader puts the handle of (writer, pack id) in <see cref="Index.ChunkRef.PackId"/>, so the in-memory
/// index, tombstone sets and per-chunk loops stay as they are. Handles start at 1, are never reused and never
/// leave the process. Thread-safe.
/// </summary>
internal sealed class PackHandles
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Writer, long PackId), long> _handles = [];
    private readonly List<(string Writer, long PackId)> _packs = [];
    private readonly Dictionary<string, string> _writers = new(StringComparer.Ordinal);

    /// <summary>Number of packs seen.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _packs.Count;
            }
        }
    }

    /// <summary>The handle of a writer's pack, assigned on first use.</summary>
    public long HandleOf(string writer, long packId)
    {
        lock (_lock)
        {
            if (_handles.TryGetValue((writer, packId), out var handle))
            {
                return handle;
            }

            // One string per writer, however many objects named it.
            if (!_writers.TryGetValue(writer, out var interned))
            {
                _writers[writer] = interned = writer;
            }

            _packs.Add((interned, packId));
            handle = _packs.Count;
            _handles[(interned, packId)] = handle;
            return handle;
        }
    }

    /// <summary>The handle of a writer's pack if one was assigned.</summary>
    public bool TryGetHandle(string writer, long packId, out long handle)
    {
        lock (_lock)
        {
            return _handles.TryGetValue((writer, packId), out handle);
        }
    }

    /// <summary>The writer and pack id behind a handle.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such handle.</exception>
    public (string Writer, long PackId) PackOf(long handle)
    {
        lock (_lock)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(handle, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(handle, _packs.Count);
            return _packs[(int)(handle - 1)];
        }
    }
}

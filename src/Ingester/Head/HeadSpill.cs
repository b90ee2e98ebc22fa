namespace LokiSharp.Ingester.Head;

/// <summary>
/// Where the head's compressed parts live instead of the managed heap: append-only files written with positional
/// writes and read back the same way, so their bytes sit in the kernel's page cache (reclaimable, not resident in
/// this process) rather than in memory the process holds. A file is unlinked as soon as it is opened: it is scratch
/// space, not a store (the WAL is what makes the head crash-safe), so a crash leaves nothing behind and the space
/// goes back when the last part in it is released and no reader still uses it. Thread-safe.
/// </summary>
internal sealed class HeadSpill : IDisposable
{
    /// <summary>Bytes after which a spill file takes no more parts; it is closed once every part in it is released.</summary>
    public const long FileSize = 64L << 20;

    /// <summary>
    /// Bytes of part tails (block tables and filters, about 1 KB a part) that filtered searches keep in memory, with
    /// their id filter sieve columns: the tails of some 30,000 parts. Only searches fill it, so memory after ingest is
    /// unchanged.
    /// </summary>
    public const long TailBytes = 32L << 20;

    private const string Suffix = ".spill";

    private readonly string _directory;
    private readonly Lock _sync = new();
    private readonly HashSet<SpillFile> _open = [];
    private SpillFile? _current;
    private long _fileNumber;
    private long _bytes;
    private bool _disposed;

    /// <summary>Spills into <paramref name="directory"/>, removing what a crashed process left there.</summary>
    public HeadSpill(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        foreach (var stale in Directory.EnumerateFiles(directory, "*" + Suffix))
        {
            // Another live process's file is unlinked already; a name still here was left by a crash.
            TryDelete(stale);
        }
    }

    /// <summary>The part tails kept for filtered searches, within <see cref="TailBytes"/>, and their sieve.</summary>
    public Storage.Reading.FileChunkTails Tails { get; } = new(TailBytes);

    /// <summary>Compressed bytes written to spill files and not yet released.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Spill files still open (each holding disk space until closed).</summary>
    public int OpenFiles
    {
        get
        {
            lock (_sync)
            {
                return _open.Count;
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="chunk"/> to the current spill file; false (and nothing written) when the disk refuses,
    /// so the caller keeps the part in memory: a full disk costs memory, never an acknowledged entry.
    /// </summary>
    public bool TryWrite(ReadOnlySpan<byte> chunk, out SpillFile file, out long offset)
    {
        lock (_sync)
        {
            file = null!;
            offset = 0;
            if (_disposed)
            {
                return false;
            }

            if (_current is null || _current.Reserved >= FileSize)
            {
                if (!TryOpenFile(out var next))
                {
                    return false;
                }

                if (_current is { } full)
                {
                    full.Retire();
                }

                _current = next;
            }

            file = _current;
            offset = file.Reserve(chunk.Length);
        }

        try
        {
            RandomAccess.Write(file.Handle, chunk, offset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            file.Release(chunk.Length);
            return false;
        }

        Interlocked.Add(ref _bytes, chunk.Length);
        return true;
    }

    /// <summary>Releases a part written by <see cref="TryWrite"/>; its file closes once nothing else needs it.</summary>
    public void Release(SpillFile file, int length)
    {
        Interlocked.Add(ref _bytes, -length);
        file.Release(length);

        // A current file whose parts have all left takes no more: it closes (once its readers are done) and gives
        // its space back, rather than holding the dead bytes of a quiet head until it would have filled up.
        lock (_sync)
        {
            if (ReferenceEquals(file, _current) && file.IsEmpty)
            {
                _current = null;
                file.Retire();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_sync)
        {
            _disposed = true;
            foreach (var file in _open)
            {
                file.Close();
            }

            _open.Clear();
            _current = null;
        }
    }

    private bool TryOpenFile(out SpillFile file)
    {
        var path = Path.Combine(_directory, $"{Environment.ProcessId}-{++_fileNumber}{Suffix}");
        try
        {
            Directory.CreateDirectory(_directory);
            var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.RandomAccess);
            TryDelete(path);
            file = new SpillFile(handle, closed => { lock (_sync) { _open.Remove(closed); } });
            _open.Add(file);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            file = null!;
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next start to remove.
        }
    }
}

using Microsoft.Win32.SafeHandles;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// One spill file of <see cref="HeadSpill"/>: counts the part bytes still in it and the readers still reading it,
/// and closes its handle (giving the unlinked file's space back) when it takes no more parts and both are zero.
/// </summary>
internal sealed class SpillFile(SafeFileHandle handle, Action<SpillFile> closed)
{
    private readonly Lock _sync = new();
    private long _live;
    private int _readers;
    private bool _retired;
    private bool _closed;

    public SafeFileHandle Handle { get; } = handle;

    /// <summary>Bytes handed out so far; the next part goes here.</summary>
    public long Reserved { get; private set; }

    /// <summary>Whether every part written here has been released.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_sync)
            {
                return _live == 0;
            }
        }
    }

    /// <summary>Space for a part of <paramref name="length"/> bytes; called under <see cref="HeadSpill"/>'s lock.</summary>
    public long Reserve(int length)
    {
        lock (_sync)
        {
            var offset = Reserved;
            Reserved += length;
            _live += length;
            return offset;
        }
    }

    /// <summary>The file takes no more parts; it closes once its parts are released and its readers done.</summary>
    public void Retire()
    {
        lock (_sync)
        {
            _retired = true;
        }

        CloseIfUnused();
    }

    /// <summary>A part of <paramref name="length"/> bytes left the head.</summary>
    public void Release(int length)
    {
        lock (_sync)
        {
            _live -= length;
        }

        CloseIfUnused();
    }

    /// <summary>A query will read parts of this file; the handle stays open until <see cref="EndRead"/>.</summary>
    public void BeginRead()
    {
        lock (_sync)
        {
            _readers++;
        }
    }

    /// <summary>A query started with <see cref="BeginRead"/> is done with the file.</summary>
    public void EndRead()
    {
        lock (_sync)
        {
            _readers--;
        }

        CloseIfUnused();
    }

    /// <summary>Closes the handle whatever still refers to it (the head is being disposed).</summary>
    public void Close()
    {
        lock (_sync)
        {
            _closed = true;
            Handle.Dispose();
        }
    }

    // The owner hears of the close outside this file's lock: the owner takes its own lock, and holds it while
    // retiring a file, so taking the two the other way round here could deadlock.
    private void CloseIfUnused()
    {
        lock (_sync)
        {
            if (!_retired || _live != 0 || _readers != 0 || _closed)
            {
                return;
            }

            _closed = true;
            Handle.Dispose();
        }

        closed(this);
    }
}

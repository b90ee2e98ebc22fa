using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// The parts one head read takes under the stream lock: in-memory chunks, and spilled ones whose files stay open
/// until the read is disposed (<see cref="EndRead"/>), since the parts may leave the head while it runs. A needle
/// search over spilled parts is ruled out by their reader (the sieve of the kept part tails), before it opens any.
/// </summary>
internal sealed class HeadReadSet
{
    private readonly List<SpillFile> _files = [];

    public List<ReadOnlyMemory<byte>> InMemory { get; } = [];

    public List<FileChunk> Spilled { get; } = [];

    /// <summary>Takes <paramref name="part"/> for reading; under the owning stream's lock.</summary>
    public void Add(HeadPart part)
    {
        if (part.InMemory is { } memory)
        {
            InMemory.Add(memory);
            return;
        }

        // Each file once per read, not once per part: a search takes thousands of parts from a few files, in file order.
        var file = part.File!;
        if (_files.Count == 0 || (!ReferenceEquals(_files[^1], file) && !_files.Contains(file)))
        {
            file.BeginRead();
            _files.Add(file);
        }

        Spilled.Add(part.ForRead());
    }

    /// <summary>The read is over: the spill files it held may close.</summary>
    public void EndRead()
    {
        foreach (var file in _files)
        {
            file.EndRead();
        }

        _files.Clear();
    }
}

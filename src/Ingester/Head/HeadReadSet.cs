using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// The parts one head read takes under the stream lock: in-memory chunks, and spilled ones whose files stay open
/// until the read is disposed (<see cref="EndRead"/>), since the parts may leave the head while it runs.
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

        Spilled.Add(part.BeginRead(out var file));
        _files.Add(file);
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

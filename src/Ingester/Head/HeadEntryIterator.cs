using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// Iterates a snapshot of a head stream's entries in time order; the snapshot is taken under the stream lock, with
/// the query's line filter already applied (<see cref="HeadBlock.Snapshot"/>).
/// </summary>
internal sealed class HeadEntryIterator(HeadEntry[] entries) : IEntryIterator
{
    private readonly HeadEntry[] _entries = entries;
    private int _index = -1;

    public LogEntry Current
    {
        get
        {
            var entry = _entries[_index];
            return new LogEntry(entry.Timestamp, entry.Segment.AsSpan(entry.Offset, entry.LineLength),
                new StructuredMetadata(entry.Segment.AsSpan(entry.Offset + entry.LineLength, entry.MetadataLength)));
        }
    }

    public ReadStats Stats { get; } = new();

    public IReadOnlyList<string> Warnings => [];

    public bool MoveNext()
    {
        if (++_index < _entries.Length)
        {
            Stats.DecompressedBytes += _entries[_index].LineLength;
            return true;
        }

        return false;
    }

    public void Dispose()
    {
    }
}

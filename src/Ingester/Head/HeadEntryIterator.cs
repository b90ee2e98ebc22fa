using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>Iterates a snapshot of a head stream's entries in time order; the snapshot is taken under the stream lock.</summary>
internal sealed class HeadEntryIterator : IEntryIterator
{
    private readonly HeadEntry[] _entries;
    private readonly Storage.ContentIndex.LineFilter? _filter;
    private int _index = -1;

    public HeadEntryIterator(HeadEntry[] entries, Storage.ContentIndex.LineFilter? filter)
    {
        _entries = entries;
        _filter = filter;
    }

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
        while (++_index < _entries.Length)
        {
            var entry = _entries[_index];
            if (_filter is null || _filter.Matches(entry.Segment.AsSpan(entry.Offset, entry.LineLength)))
            {
                Stats.DecompressedBytes += entry.LineLength;
                return true;
            }
        }

        return false;
    }

    public void Dispose()
    {
    }
}

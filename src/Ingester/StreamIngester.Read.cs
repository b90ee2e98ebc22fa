using LokiSharp.Ingester.Head;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester;

/// <content>The read side: the head answers the same <see cref="ILogSource"/> queries as the chunk store.</content>
public sealed partial class StreamIngester
{
    /// <inheritdoc />
    public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var selected = new List<SelectedStream>();
        if (!_tenants.TryGetValue(tenant, out var streams))
        {
            return selected;
        }

        foreach (var stream in streams.Values)
        {
            if (!Matches(stream.Labels, matchers))
            {
                continue;
            }

            (long Min, long Max) range;
            lock (stream.Sync)
            {
                range = stream.TimeRange();
            }

            if (range.Max >= from && range.Min < through)
            {
                selected.Add(new SelectedStream(stream.Labels, stream.Fingerprint));
            }
        }

        return selected;
    }

    /// <inheritdoc />
    public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query)
    {
        if (!_tenants.TryGetValue(tenant, out var streams) || !streams.TryGetValue(stream.Labels, out var head))
        {
            return new HeadEntryIterator([]);
        }

        // A line-filtered search judges spilled parts through the sieve of their kept tails before it opens any.
        var search = query.Filter is { IsEmpty: false } filter && _spill is not null ? _spill.Tails.Search(filter) : null;
        var parts = new HeadReadSet(search, query.From, query.Through);
        var tail = new List<HeadEntry>();
        lock (head.Sync)
        {
            foreach (var (block, _) in head.Retained)
            {
                block.Snapshot(query.From, query.Through, query.Filter, parts, tail);
            }

            foreach (var block in head.Sealed)
            {
                block.Snapshot(query.From, query.Through, query.Filter, parts, tail);
            }

            head.Open.Snapshot(query.From, query.Through, query.Filter, parts, tail);
        }

        var entries = tail.ToArray();
        if (!InTimeOrder(entries))
        {
            Array.Sort(entries, static (a, b) => a.Timestamp != b.Timestamp ? a.Timestamp.CompareTo(b.Timestamp) : a.Sequence.CompareTo(b.Sequence));
        }
        if (query.Direction == Direction.Backward)
        {
            Array.Reverse(entries);
        }

        var recent = new HeadEntryIterator(entries);
        return PartsIterator(parts, query) is { } compressed ? new MergedEntryIterator(compressed, recent, query.Direction) : recent;
    }

    // The compressed parts a read took: spilled ones read from their files as the query reaches them, and in-memory
    // ones (kept when the spill refused them) merged in.
    private static IEntryIterator? PartsIterator(HeadReadSet parts, in EntryQuery query)
    {
        IEntryIterator? spilled = parts.Spilled.Count > 0 ? new SpilledEntryIterator(ChunkEntryReader.Open(parts.Spilled, query), parts)
            : parts.AllRuledOut is { } ruledOut ? new RuledOutPartsIterator(ruledOut)
            : null;
        if (parts.InMemory.Count == 0)
        {
            return spilled;
        }

        var inMemory = ChunkEntryReader.Open(parts.InMemory, query);
        return spilled is null ? inMemory : new MergedEntryIterator(inMemory, spilled, query.Direction);
    }

    // Tails fed by one client at a time arrive in order; checking costs a fraction of sorting.
    private static bool InTimeOrder(HeadEntry[] entries)
    {
        for (var i = 1; i < entries.Length; i++)
        {
            var (previous, current) = (entries[i - 1], entries[i]);
            if (current.Timestamp < previous.Timestamp || (current.Timestamp == previous.Timestamp && current.Sequence < previous.Sequence))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var stream in SelectStreams(tenant, matchers, from, through))
        {
            foreach (var pair in stream.Labels)
            {
                names.Add(pair.Name);
            }
        }

        return names;
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var values = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var stream in SelectStreams(tenant, matchers, from, through))
        {
            if (stream.Labels.Get(name) is { } value)
            {
                values.Add(value);
            }
        }

        return values;
    }

    /// <inheritdoc />
    /// <remarks>Only unflushed blocks count: retained ones are stored already, and the store counts them.</remarks>
    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        long streamsCount = 0, chunks = 0, bytes = 0, entries = 0;
        foreach (var selected in SelectStreams(tenant, matchers, from, through))
        {
            if (!_tenants[tenant].TryGetValue(selected.Labels, out var stream))
            {
                continue;
            }

            lock (stream.Sync)
            {
                if (stream.IsEmpty)
                {
                    continue;
                }

                streamsCount++;
                foreach (var block in stream.Sealed.Append(stream.Open))
                {
                    if (!block.IsEmpty)
                    {
                        chunks++;
                        bytes += block.RawBytes;
                        entries += block.EntryCount;
                    }
                }
            }
        }

        return new IndexStats(streamsCount, chunks, bytes, entries);
    }

    /// <inheritdoc />
    /// <remarks>As <see cref="Stats"/>, only unflushed blocks count.</remarks>
    public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var volumes = new List<SeriesVolume>();
        foreach (var selected in SelectStreams(tenant, matchers, from, through))
        {
            if (_tenants[tenant].TryGetValue(selected.Labels, out var stream))
            {
                long bytes = 0;
                lock (stream.Sync)
                {
                    foreach (var block in stream.Sealed.Append(stream.Open))
                    {
                        bytes += block.RawBytes;
                    }
                }

                // A stream whose blocks are all stored (retained) is counted by the store.
                if (bytes > 0)
                {
                    volumes.Add(new SeriesVolume(stream.Labels, bytes));
                }
            }
        }

        return volumes;
    }

    /// <summary>Active streams of a tenant in memory.</summary>
    public int StreamCount(string tenant) => _tenants.TryGetValue(tenant, out var streams) ? streams.Count : 0;

    private static bool Matches(LabelSet labels, IReadOnlyList<LabelMatcher> matchers)
    {
        foreach (var matcher in matchers)
        {
            if (!matcher.Matches(labels.Get(matcher.Name) ?? ""))
            {
                return false;
            }
        }

        return true;
    }
}

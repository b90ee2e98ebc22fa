using System.Buffers;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Tests;

/// <summary>Encoded chunks per stream held in memory, read like the ingester's cut chunks.</summary>
internal sealed class ChunkSource : ILogSource
{
    private readonly Dictionary<LabelSet, List<ReadOnlyMemory<byte>>> _chunks = [];

    public void Add(LabelSet labels, List<(long Ts, string Line)> entries) => Add(labels, [.. entries.Select(e => (e.Ts, e.Line, Array.Empty<LabelPair>()))]);

    public void Add(LabelSet labels, List<(long Ts, string Line, LabelPair[] Metadata)> entries)
    {
        using var builder = new ChunkBuilder(ChunkEncoding.Snappy, targetBlockSize: 4096);
        foreach (var (ts, line, metadata) in entries)
        {
            builder.Append(ts, line, metadata);
        }

        var output = new ArrayBufferWriter<byte>();
        builder.Finish(output);
        if (!_chunks.TryGetValue(labels, out var list))
        {
            _chunks[labels] = list = [];
        }

        list.Add(output.WrittenMemory.ToArray());
    }

    public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        [.. _chunks.Keys.Where(l => matchers.All(m => m.Matches(l.Get(m.Name) ?? ""))).Select(l => new SelectedStream(l, 0))];

    public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query) =>
        ChunkEntryReader.Open(_chunks[stream.Labels], query);

    public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();

    public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();

    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();

    public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();
}

using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Tests;

/// <summary>A source whose iterators hand out entries one by one only (no runs), as wrapping sources do: the reference runs are compared with.</summary>
internal sealed class OneByOneSource(ILogSource inner) : ILogSource
{
    public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        inner.SelectStreams(tenant, matchers, from, through);

    public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query) => new Entries(inner.OpenEntries(tenant, stream, query));

    public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();

    public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();

    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) => throw new NotSupportedException();

    public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();

    private sealed class Entries(IEntryIterator inner) : IEntryIterator
    {
        public LogEntry Current => inner.Current;

        public ReadStats Stats => inner.Stats;

        public IReadOnlyList<string> Warnings => inner.Warnings;

        public bool MoveNext() => inner.MoveNext();

        public void Dispose() => inner.Dispose();
    }
}

using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Tests;

/// <summary>
/// A source passing reads through to another: its iterators hand out entries one by one only (no runs), as wrapping sources
/// do, the reference runs are compared with; or, with <paramref name="runs"/>, forward runs and count those taken
/// (<see cref="RunsTaken"/>), so a test knows the reader took them.
/// </summary>
internal sealed class PassThroughSource(ILogSource inner, bool runs = false) : ILogSource
{
    private int _runsTaken;

    /// <summary>Runs handed out by this source's iterators so far.</summary>
    public int RunsTaken => Volatile.Read(ref _runsTaken);

    public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        inner.SelectStreams(tenant, matchers, from, through);

    public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query) => new Entries(inner.OpenEntries(tenant, stream, query), runs ? this : null);

    public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();

    public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();

    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) => throw new NotSupportedException();

    public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        throw new NotSupportedException();

    private sealed class Entries(IEntryIterator inner, PassThroughSource? counting) : IEntryIterator
    {
        public bool HandsOutRuns => counting is not null && inner.HandsOutRuns;

        public bool TryTakeRun(long before, out EntryRun run)
        {
            run = default;
            if (counting is null || !inner.TryTakeRun(before, out run))
            {
                return false;
            }

            Interlocked.Increment(ref counting._runsTaken);
            return true;
        }

        public LogEntry Current => inner.Current;

        public ReadStats Stats => inner.Stats;

        public IReadOnlyList<string> Warnings => inner.Warnings;

        public bool MoveNext() => inner.MoveNext();

        public void Dispose() => inner.Dispose();
    }
}

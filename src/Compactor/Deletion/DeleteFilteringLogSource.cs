using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;
using SampleExtractor = LokiSharp.Storage.Reading.SampleExtractor;

namespace LokiSharp.Compactor.Deletion;

/// <summary>
/// Hides entries covered by delete requests from a log source at query time, as Loki's queriers do: requests
/// not yet applied to stored chunks (inside their cancellation period) and data still in the ingester's head
/// or flushed after a request was processed. Cancelling a request makes its entries visible again. Index
/// statistics and label lists are not filtered.
/// </summary>
public sealed class DeleteFilteringLogSource(ILogSource inner, DeleteRequestStore requests) : ILogSource
{
    /// <inheritdoc />
    public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from,
        long through) => inner.SelectStreams(tenant, matchers, from, through);

    /// <inheritdoc />
    public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query)
    {
        var applicable = Applicable(tenant, stream.Labels, query.From, query.Through);
        var entries = inner.OpenEntries(tenant, stream, query);
        return applicable.Count == 0 ? entries : new FilteringIterator(entries, applicable, stream.Labels);
    }

    /// <inheritdoc />
    public ReadStats ExtractSamples(string tenant, SelectedStream stream, in EntryQuery query,
        SampleExtractor? extractor, List<Sample> output)
    {
        if (Applicable(tenant, stream.Labels, query.From, query.Through).Count == 0)
        {
            return inner.ExtractSamples(tenant, stream, query, extractor, output);
        }

        using var entries = OpenEntries(tenant, stream, query with { Direction = Direction.Forward });
        while (entries.MoveNext())
        {
            var entry = entries.Current;
            if (extractor is null)
            {
                output.Add(new Sample(entry.Timestamp, 1));
            }
            else if (extractor(in entry, out var value))
            {
                output.Add(new Sample(entry.Timestamp, value));
            }
        }

        return entries.Stats;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> KnownDamage(string tenant, long from, long through) => inner.KnownDamage(tenant, from, through);

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from,
        long through) => inner.LabelNames(tenant, matchers, from, through);

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers,
        long from, long through) => inner.LabelValues(tenant, name, matchers, from, through);

    /// <inheritdoc />
    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        inner.Stats(tenant, matchers, from, through);

    /// <inheritdoc />
    public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from,
        long through) => inner.Volumes(tenant, matchers, from, through);

    private List<DeleteRequest> Applicable(string tenant, LabelSet labels, long from, long through)
    {
        var result = new List<DeleteRequest>();
        foreach (var request in requests.ForTenant(tenant))
        {
            if (request.Overlaps(from, through - 1) && request.MatchesStream(labels))
            {
                result.Add(request);
            }
        }

        return result;
    }

    private sealed class FilteringIterator : IEntryIterator
    {
        private readonly IEntryIterator _inner;
        private readonly (DeleteRequest Request, StreamPipeline? Stream)[] _requests;

        public FilteringIterator(IEntryIterator inner, List<DeleteRequest> requests, LabelSet labels)
        {
            _inner = inner;
            _requests = requests.ConvertAll(r => (r, r.HasFilters ? r.CompilePipeline().ForStream(labels) : null))
                .ToArray();
        }

        public LogEntry Current => _inner.Current;

        public ReadStats Stats => _inner.Stats;

        public IReadOnlyList<string> Warnings => _inner.Warnings;

        public bool MoveNext()
        {
            while (_inner.MoveNext())
            {
                var entry = _inner.Current;
                var deleted = false;
                foreach (var (request, stream) in _requests)
                {
                    if (ChunkDeleter.IsDeleted(request, stream, entry))
                    {
                        deleted = true;
                        break;
                    }
                }

                if (!deleted)
                {
                    return true;
                }
            }

            return false;
        }

        public void Dispose() => _inner.Dispose();
    }
}

using Grpc.Core;
using LokiSharp.LogQL.Labels;
using LokiSharp.Querier.Peers.Wire;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Peers;

/// <summary>
/// One peer ingester's head as a source of one query. Selecting streams is one call; the entries of every stream a
/// selection found are read by one streaming call, opened when the first of them is, whose batches are handed to the
/// streams' iterators (<see cref="PeerRead"/>). A peer that fails or times out is reported once to the query's
/// warnings and answers nothing more, so the query still answers from the other sources. Per query, not shared.
/// </summary>
internal sealed partial class PeerHeadSource(string endpoint, HeadReader.HeadReaderClient client, TimeSpan timeout, long skipBefore,
    QueryWarnings warnings, Action<string> notIngester, CancellationToken cancellationToken) : ILogSource
{
    private readonly Lock _lock = new();
    private readonly List<Selection> _selections = [];
    private readonly List<PeerRead> _reads = [];
    private int _failed;

    /// <summary>The peer's endpoint, as warnings name it.</summary>
    public string Endpoint => endpoint;

    /// <inheritdoc />
    public IReadOnlyList<SelectedStream> SelectStreams(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var request = PeerWire.Select(tenant, matchers, from, through);
        var response = Call(through, request, static (c, r, o) => c.SelectStreamsAsync(r, o));
        if (response is null)
        {
            return [];
        }

        var streams = new SelectedStream[response.Streams.Count];
        for (var i = 0; i < streams.Length; i++)
        {
            streams[i] = new SelectedStream(PeerWire.Labels(response.Streams[i]), response.Streams[i].Fingerprint);
        }

        lock (_lock)
        {
            _selections.Add(new Selection(request, streams));
        }

        return streams;
    }

    /// <inheritdoc />
    public IEntryIterator OpenEntries(string tenant, SelectedStream stream, in EntryQuery query)
    {
        var wanted = query;
        lock (_lock)
        {
            foreach (var read in _reads)
            {
                if (read.Serves(tenant, wanted) && read.TryClaim(stream.Fingerprint, out var iterator))
                {
                    return iterator;
                }
            }

            if (Volatile.Read(ref _failed) != 0)
            {
                return PeerRead.Empty;
            }

            // A read covers the newest selection holding the stream; a stream opened twice gets a read of its own.
            Selection? selection = null;
            for (var i = _selections.Count - 1; i >= 0 && selection is null; i--)
            {
                if (_selections[i].Request.Tenant == tenant && _selections[i].Contains(stream.Fingerprint))
                {
                    selection = _selections[i];
                }
            }

            var fingerprints = selection is not null && !_reads.Exists(r => r.Serves(tenant, wanted) && r.Covers(stream.Fingerprint))
                ? selection.Fingerprints
                : [stream.Fingerprint];
            var request = new ReadRequest
            {
                Select = PeerWire.Select(tenant, selection is null ? [] : PeerWire.Matchers(selection.Request), query.From, query.Through),
                Backward = query.Direction == Direction.Backward,
            };
            request.Fingerprints.AddRange(fingerprints);
            PeerWire.AddLiterals(request, query.Filter);
            var newRead = new PeerRead(this, tenant, query, fingerprints, client, request, timeout, cancellationToken);
            _reads.Add(newRead);
            newRead.TryClaim(stream.Fingerprint, out var claimed);
            return claimed;
        }
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelNames(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        Call(through, PeerWire.Select(tenant, matchers, from, through), static (c, r, o) => c.LabelNamesAsync(r, o))?.Values ?? (IReadOnlyCollection<string>)[];

    /// <inheritdoc />
    public IReadOnlyCollection<string> LabelValues(string tenant, string name, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        Call(through, new LabelValuesRequest { Select = PeerWire.Select(tenant, matchers, from, through), Name = name },
            static (c, r, o) => c.LabelValuesAsync(r, o))?.Values ?? (IReadOnlyCollection<string>)[];

    /// <inheritdoc />
    public IndexStats Stats(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through) =>
        Call(through, PeerWire.Select(tenant, matchers, from, through), static (c, r, o) => c.StatsAsync(r, o)) is { } stats
            ? new IndexStats(stats.Streams, stats.Chunks, stats.Bytes, stats.Entries)
            : default;

    /// <inheritdoc />
    public IReadOnlyList<SeriesVolume> Volumes(string tenant, IReadOnlyList<LabelMatcher> matchers, long from, long through)
    {
        var response = Call(through, PeerWire.Select(tenant, matchers, from, through), static (c, r, o) => c.VolumesAsync(r, o));
        if (response is null)
        {
            return [];
        }

        var volumes = new SeriesVolume[response.Streams.Count];
        for (var i = 0; i < volumes.Length; i++)
        {
            volumes[i] = new SeriesVolume(PeerWire.Labels(response.Streams[i]), response.Streams[i].Bytes);
        }

        return volumes;
    }

    /// <summary>
    /// Reports the peer's failure once and stops asking it; the query's own cancellation is rethrown, since then the
    /// whole query ends. A peer that does not serve the head protocol is no ingester: no warning.
    /// </summary>
    internal void Fail(Exception error)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // No lock: a read calls this while holding its own lock, which OpenEntries takes under this source's.
        if (Interlocked.Exchange(ref _failed, 1) != 0)
        {
            return;
        }

        // A process without an ingester (a read or backend pod behind the same headless Service) has no head to miss.
        if (error is RpcException { StatusCode: StatusCode.Unimplemented })
        {
            notIngester(endpoint);
            return;
        }

        warnings.Add(Warning(endpoint, error));
    }

    /// <summary>The warning naming a peer that did not answer.</summary>
    internal static string Warning(string endpoint, Exception error)
    {
        var reason = error switch
        {
            RpcException { StatusCode: StatusCode.DeadlineExceeded or StatusCode.Cancelled } or OperationCanceledException => "timed out",
            RpcException rpc => rpc.Status.Detail.Length > 0 ? rpc.Status.Detail : rpc.StatusCode.ToString(),
            _ => error.Message,
        };
        return $"ingester {endpoint} did not answer ({reason}): entries not yet stored that only it holds are missing";
    }

    // One unary call under the peer timeout and the query's cancellation; null when the peer failed or the range ends
    // before the peers are asked.
    private TResponse? Call<TRequest, TResponse>(long through, TRequest request,
        Func<HeadReader.HeadReaderClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> call)
        where TResponse : class
    {
        if (through <= skipBefore || Volatile.Read(ref _failed) != 0)
        {
            return null;
        }

        try
        {
            var options = new CallOptions(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
            return call(client, request, options).ResponseAsync.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or OperationCanceledException or IOException)
        {
            Fail(e);
            return null;
        }
    }

    /// <summary>A selection this source answered: its request and its streams' fingerprints.</summary>
    private sealed class Selection(SelectRequest request, SelectedStream[] streams)
    {
        private readonly HashSet<ulong> _set = [.. streams.Select(s => s.Fingerprint)];

        public SelectRequest Request { get; } = request;

        public ulong[] Fingerprints { get; } = [.. streams.Select(s => s.Fingerprint)];

        public bool Contains(ulong fingerprint) => _set.Contains(fingerprint);
    }
}

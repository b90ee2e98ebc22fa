using System.Collections.Concurrent;
using Grpc.Net.Client;
using LokiSharp.Querier.Peers.Wire;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Peers;

/// <summary>
/// The peer ingesters a querier reads: the endpoints <see cref="PeerDiscovery"/> found, resolved again at most once
/// per <see cref="PeerOptions.RefreshInterval"/> (in the background; queries use the last answer), and one gRPC
/// channel per endpoint. <see cref="ForQuery"/> gives a query one <see cref="ILogSource"/> per peer.
/// </summary>
public sealed class PeerSet : IDisposable
{
    private readonly PeerDiscovery _discovery;
    private readonly PeerOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<string>? _log;
    private readonly Func<ILogSource, ILogSource>? _filter;
    private readonly ConcurrentDictionary<string, (GrpcChannel Channel, HeadReader.HeadReaderClient Client)> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _notIngesters = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private IReadOnlyList<string> _peers = [];
    private long _resolvedAt = long.MinValue;
    private Task? _refresh;
    private string _lastFailure = "";

    /// <summary>
    /// Creates the set; nothing is resolved until the first query. <paramref name="log"/> hears resolution problems;
    /// <paramref name="filter"/> wraps each peer source as the local ones are (pending delete requests).
    /// </summary>
    public PeerSet(PeerOptions options, TimeProvider time, Action<string>? log = null, Func<ILogSource, ILogSource>? filter = null)
    {
        _options = options;
        _time = time;
        _log = log;
        _filter = filter;
        _discovery = new PeerDiscovery(options);
        foreach (var ignored in _discovery.Ignored)
        {
            log?.Invoke($"peer entry {ignored} ignored: only host:port, host and dns+host:port entries are resolved");
        }
    }

    /// <summary>Whether any peer entry is configured; without one, queries read no peers and cost nothing more.</summary>
    public bool Configured => _discovery.HasEntries;

    /// <summary>The peers' endpoints, resolving first if the set never was and starting a refresh if it is stale.</summary>
    public IReadOnlyList<string> Current()
    {
        if (!Configured)
        {
            return [];
        }

        Task? first = null;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            var stale = _resolvedAt == long.MinValue || _time.GetElapsedTime(_resolvedAt, now) >= _options.RefreshInterval;
            if (stale && _refresh is null or { IsCompleted: true })
            {
                _refresh = Task.Run(RefreshAsync);
            }

            if (_resolvedAt == long.MinValue)
            {
                first = _refresh;
            }
        }

        // The first query waits for the first answer (a refresh gives up after one interval): without it, it would
        // silently miss every head.
        first?.Wait(_options.RefreshInterval + TimeSpan.FromSeconds(1));
        return Volatile.Read(ref _peers);
    }

    /// <summary>
    /// One source per peer for a query: each reads its peer's head, bounded by <paramref name="cancellationToken"/> and the
    /// peer timeout, and reports a peer that fails to <paramref name="warnings"/>. Empty when no peer is configured or
    /// the query ends before <see cref="PeerOptions.QueryIngestersWithin"/>.
    /// </summary>
    public IReadOnlyList<ILogSource> ForQuery(QueryWarnings warnings, CancellationToken cancellationToken)
    {
        var peers = Current();
        if (peers.Count == 0)
        {
            return [];
        }

        var within = _options.QueryIngestersWithin > TimeSpan.Zero
            ? (_time.GetUtcNow() - _options.QueryIngestersWithin).ToUnixTimeMilliseconds() * 1_000_000
            : long.MinValue;
        var sources = new List<ILogSource>(peers.Count);
        foreach (var peer in peers)
        {
            if (!_notIngesters.ContainsKey(peer))
            {
                var source = new PeerHeadSource(peer, Client(peer), _options.Timeout, within, warnings, e => _notIngesters[e] = true, cancellationToken);
                sources.Add(_filter is null ? source : _filter(source));
            }
        }

        return sources;
    }

    private HeadReader.HeadReaderClient Client(string endpoint) => _channels.GetOrAdd(endpoint, e =>
    {
        var channel = GrpcChannel.ForAddress("http://" + e, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ConnectTimeout = _options.Timeout, EnableMultipleHttp2Connections = true },
            // The peer bounds its batches (256 KiB plus one entry); an entry may be as long as max_line_size allows.
            MaxReceiveMessageSize = null,
        });
        return (channel, new HeadReader.HeadReaderClient(channel));
    }).Client;

    private async Task RefreshAsync()
    {
        var failures = new List<string>();
        IReadOnlyList<string> peers;
        try
        {
            using var timeout = new CancellationTokenSource(_options.RefreshInterval);
            peers = await _discovery.ResolveAsync(failures, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            failures.Add("resolving peers timed out");
            peers = Volatile.Read(ref _peers);
        }

        // A name that fails to resolve keeps the peers it had, so a DNS hiccup does not hide a live head.
        if (failures.Count > 0)
        {
            var merged = new SortedSet<string>(peers, StringComparer.Ordinal);
            merged.UnionWith(Volatile.Read(ref _peers));
            peers = [.. merged];
            var text = string.Join("; ", failures);
            if (text != _lastFailure)
            {
                _log?.Invoke("resolving peers failed: " + text);
            }

            _lastFailure = text;
        }
        else
        {
            _lastFailure = "";
        }

        // Endpoints found to run no ingester are asked again after each resolution: a pod's address may be reused.
        _notIngesters.Clear();
        Volatile.Write(ref _peers, peers);
        foreach (var (endpoint, entry) in _channels)
        {
            if (!peers.Contains(endpoint) && _channels.TryRemove(endpoint, out _))
            {
                entry.Channel.Dispose();
            }
        }

        lock (_lock)
        {
            _resolvedAt = _time.GetTimestamp();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, entry) in _channels)
        {
            entry.Channel.Dispose();
        }

        _channels.Clear();
    }
}

using Grpc.Core;
using LokiSharp.Querier.Peers.Wire;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Peers;

/// <summary>
/// One streaming read of several streams from a peer: the peer sends their entries merged in the query's order, in
/// batches, and each stream's iterator takes its own, pulling the next batch when it has none. Entries waiting for
/// another stream's iterator are reserved in the query's memory budget until taken. The call starts at the first
/// pull and is cancelled when every iterator is disposed; each batch must arrive within the peer timeout.
/// </summary>
internal sealed class PeerRead
{
    // What a buffered entry costs besides its bytes: the message objects and the queue slot.
    private const long EntryOverhead = 96;

    private readonly PeerHeadSource _source;
    private readonly string _tenant;
    private readonly EntryQuery _query;
    private readonly Dictionary<ulong, int> _indexOf = [];
    private readonly Queue<Entry>[] _queues;
    private readonly bool[] _claimed;
    private readonly bool[] _closed;
    private readonly HeadReader.HeadReaderClient _client;
    private readonly ReadRequest _request;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _cancellationToken;
    private readonly Lock _lock = new();
    private readonly List<string> _warnings = [];
    private CancellationTokenSource? _call;
    private AsyncServerStreamingCall<EntryBatch>? _stream;
    private bool _done;
    private int _open;

    public PeerRead(PeerHeadSource source, string tenant, EntryQuery query, ulong[] fingerprints, HeadReader.HeadReaderClient client,
        ReadRequest request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _source = source;
        _tenant = tenant;
        _query = query;
        for (var i = 0; i < fingerprints.Length; i++)
        {
            _indexOf.TryAdd(fingerprints[i], i);
        }

        _queues = new Queue<Entry>[fingerprints.Length];
        _claimed = new bool[fingerprints.Length];
        _closed = new bool[fingerprints.Length];
        _client = client;
        _request = request;
        _timeout = timeout;
        _cancellationToken = cancellationToken;
    }

    /// <summary>An iterator with no entries, for a peer that already failed.</summary>
    public static IEntryIterator Empty { get; } = new EmptyIterator();

    /// <summary>Whether this read answers <paramref name="query"/> for <paramref name="tenant"/>.</summary>
    public bool Serves(string tenant, in EntryQuery query) => tenant == _tenant && query == _query;

    /// <summary>Whether the stream is among this read's.</summary>
    public bool Covers(ulong fingerprint) => _indexOf.ContainsKey(fingerprint);

    /// <summary>The stream's iterator, unless it was already handed out.</summary>
    public bool TryClaim(ulong fingerprint, out IEntryIterator iterator)
    {
        lock (_lock)
        {
            if (_indexOf.TryGetValue(fingerprint, out var index) && !_claimed[index])
            {
                _claimed[index] = true;
                _queues[index] ??= new Queue<Entry>();
                _open++;
                iterator = new StreamIterator(this, index);
                return true;
            }
        }

        iterator = Empty;
        return false;
    }

    // The next entry of stream `index`, pulling batches until it has one or the read ends.
    private Entry? Next(int index, out long released)
    {
        released = 0;
        lock (_lock)
        {
            var queue = _queues[index];
            while (queue.Count == 0 && !_done)
            {
                Pull();
            }

            if (queue.Count == 0)
            {
                return null;
            }

            var entry = queue.Dequeue();
            released = Cost(entry);
            return entry;
        }
    }

    // One batch from the peer into the queues of the streams still open. Under _lock.
    private void Pull()
    {
        try
        {
            if (_stream is null)
            {
                _call = CancellationTokenSource.CreateLinkedTokenSource(_cancellationToken);
                _stream = _client.ReadEntries(_request, new CallOptions(cancellationToken: _call.Token));
            }

            _call!.CancelAfter(_timeout);
            var more = _stream.ResponseStream.MoveNext(_call.Token).GetAwaiter().GetResult();
            _call.CancelAfter(Timeout.InfiniteTimeSpan);
            if (!more)
            {
                Finish();
                return;
            }

            var batch = _stream.ResponseStream.Current;
            _warnings.AddRange(batch.Warnings);
            long reserved = 0;
            foreach (var entry in batch.Entries)
            {
                // A stream not opened yet keeps its entries for the iterator that will be; a closed one wants none.
                var index = (int)entry.Stream;
                if (index < _queues.Length && !_closed[index])
                {
                    (_queues[index] ??= new Queue<Entry>()).Enqueue(entry);
                    reserved += Cost(entry);
                }
            }

            _query.Memory?.Reserve(reserved);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or HttpRequestException or IOException)
        {
            Finish();
            _source.Fail(e);
        }
    }

    private void Finish()
    {
        _done = true;
        _stream?.Dispose();
        _call?.Dispose();
        (_stream, _call) = (null, null);
    }

    private void Close(int index)
    {
        lock (_lock)
        {
            if (_closed[index])
            {
                return;
            }

            _closed[index] = true;
            long left = 0;
            foreach (var entry in _queues[index])
            {
                left += Cost(entry);
            }

            _queues[index].Clear();
            _query.Memory?.Release(left);
            if (--_open == 0 && !_done && Array.TrueForAll(_claimed, static c => c))
            {
                // Every stream was opened and closed: nobody reads on, so the peer stops sending.
                _call?.Cancel();
                Finish();
            }
        }
    }

    private static long Cost(Entry entry) => EntryOverhead + entry.Line.Length + entry.Metadata.Length;

    /// <summary>One stream's entries from the shared read.</summary>
    private sealed class StreamIterator(PeerRead read, int index) : IEntryIterator
    {
        private Entry? _current;
        private long _held;
        private bool _disposed;

        public LogEntry Current => new(_current!.Timestamp, _current.Line.Span, new StructuredMetadata(_current.Metadata.Span));

        public ReadStats Stats { get; } = new();

        public IReadOnlyList<string> Warnings
        {
            get
            {
                lock (read._lock)
                {
                    return [.. read._warnings];
                }
            }
        }

        public bool MoveNext()
        {
            ReleaseHeld();
            if (_disposed)
            {
                return false;
            }

            _current = read.Next(index, out _held);
            return _current is not null;
        }

        // The entry handed out last stays reserved until the caller moves past it.
        private void ReleaseHeld()
        {
            if (_held > 0)
            {
                read._query.Memory?.Release(_held);
                _held = 0;
            }
        }

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            ReleaseHeld();
            _current = null;
            read.Close(index);
        }
    }

    private sealed class EmptyIterator : IEntryIterator
    {
        public LogEntry Current => default;

        public ReadStats Stats { get; } = new();

        public IReadOnlyList<string> Warnings => [];

        public bool MoveNext() => false;

        public void Dispose()
        {
        }
    }
}

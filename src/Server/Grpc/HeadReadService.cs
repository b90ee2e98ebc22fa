using Google.Protobuf;
using Grpc.Core;
using LokiSharp.Querier.Peers;
using LokiSharp.Querier.Peers.Wire;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Server.Grpc;

/// <summary>
/// <c>lokisharp.headread.v1.HeadReader</c> on the gRPC port where the ingester runs: other processes' queriers read
/// this ingester's head through it (see <see cref="PeerHeadSource"/>'s protocol in <c>head_read.proto</c>). Entries
/// of all requested streams go out merged in the query's order, in batches of bounded size, so the querier buffers
/// little whichever stream it reads first; gRPC flow control holds the head's iterators back for a slow reader.
/// </summary>
internal sealed class HeadReadService(Ingester.StreamIngester head) : HeadReader.HeadReaderBase
{
    // A batch is sent when it holds this many entries or bytes, whichever comes first.
    private const int BatchEntries = 1024;
    private const int BatchBytes = 256 << 10;

    public override Task<SelectResponse> SelectStreams(SelectRequest request, ServerCallContext context)
    {
        var response = new SelectResponse();
        foreach (var stream in head.SelectStreams(request.Tenant, Matchers(request), request.From, request.Through))
        {
            response.Streams.Add(PeerWire.Stream(stream.Labels, stream.Fingerprint));
        }

        return Task.FromResult(response);
    }

    public override async Task ReadEntries(ReadRequest request, IServerStreamWriter<EntryBatch> responseStream, ServerCallContext context)
    {
        var select = request.Select ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "select is required"));
        var wanted = new Dictionary<ulong, int>();
        for (var i = 0; i < request.Fingerprints.Count; i++)
        {
            wanted.TryAdd(request.Fingerprints[i], i);
        }

        var query = PeerWire.Query(request);
        var backward = query.Direction == Direction.Backward;
        var iterators = new List<(IEntryIterator Iterator, uint Index)>();
        try
        {
            foreach (var stream in head.SelectStreams(select.Tenant, Matchers(select), select.From, select.Through))
            {
                if (wanted.TryGetValue(stream.Fingerprint, out var index))
                {
                    iterators.Add((head.OpenEntries(select.Tenant, stream, query), (uint)index));
                }
            }

            var heap = new PriorityQueue<int, (long, uint)>(iterators.Count);
            for (var i = 0; i < iterators.Count; i++)
            {
                Enqueue(heap, iterators, i, backward);
            }

            while (heap.Count > 0)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                var batch = Fill(heap, iterators, backward);
                await responseStream.WriteAsync(batch, context.CancellationToken).ConfigureAwait(false);
            }

            var warnings = new EntryBatch();
            foreach (var (iterator, _) in iterators)
            {
                warnings.Warnings.AddRange(iterator.Warnings);
            }

            if (warnings.Warnings.Count > 0)
            {
                await responseStream.WriteAsync(warnings, context.CancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var (iterator, _) in iterators)
            {
                iterator.Dispose();
            }
        }
    }

    public override Task<Strings> LabelNames(SelectRequest request, ServerCallContext context)
    {
        var response = new Strings();
        response.Values.AddRange(head.LabelNames(request.Tenant, Matchers(request), request.From, request.Through));
        return Task.FromResult(response);
    }

    public override Task<Strings> LabelValues(LabelValuesRequest request, ServerCallContext context)
    {
        var select = request.Select ?? new SelectRequest();
        var response = new Strings();
        response.Values.AddRange(head.LabelValues(select.Tenant, request.Name, Matchers(select), select.From, select.Through));
        return Task.FromResult(response);
    }

    public override Task<StatsResponse> Stats(SelectRequest request, ServerCallContext context)
    {
        var stats = head.Stats(request.Tenant, Matchers(request), request.From, request.Through);
        return Task.FromResult(new StatsResponse { Streams = stats.Streams, Chunks = stats.Chunks, Bytes = stats.Bytes, Entries = stats.Entries });
    }

    public override Task<VolumesResponse> Volumes(SelectRequest request, ServerCallContext context)
    {
        var response = new VolumesResponse();
        foreach (var volume in head.Volumes(request.Tenant, Matchers(request), request.From, request.Through))
        {
            response.Streams.Add(PeerWire.Stream(volume.Labels, 0, volume.Bytes));
        }

        return Task.FromResult(response);
    }

    // Entries in heap order until the batch is full; iterators hand out views, so each entry is copied here.
    private static EntryBatch Fill(PriorityQueue<int, (long, uint)> heap, List<(IEntryIterator Iterator, uint Index)> iterators, bool backward)
    {
        var batch = new EntryBatch();
        var bytes = 0;
        while (batch.Entries.Count < BatchEntries && bytes < BatchBytes && heap.TryDequeue(out var i, out _))
        {
            var (iterator, index) = iterators[i];
            var entry = iterator.Current;
            batch.Entries.Add(new Entry
            {
                Stream = index,
                Timestamp = entry.Timestamp,
                Line = ByteString.CopyFrom(entry.Line),
                Metadata = entry.Metadata.Encoded.Length > 1 ? ByteString.CopyFrom(entry.Metadata.Encoded) : ByteString.Empty,
            });
            bytes += entry.Line.Length + entry.Metadata.Encoded.Length;
            Enqueue(heap, iterators, i, backward);
        }

        return batch;
    }

    private static void Enqueue(PriorityQueue<int, (long, uint)> heap, List<(IEntryIterator Iterator, uint Index)> iterators, int i, bool backward)
    {
        var (iterator, index) = iterators[i];
        if (iterator.MoveNext())
        {
            heap.Enqueue(i, (backward ? -iterator.Current.Timestamp : iterator.Current.Timestamp, index));
        }
    }

    private static IReadOnlyList<LogQL.Labels.LabelMatcher> Matchers(SelectRequest request)
    {
        try
        {
            return PeerWire.Matchers(request);
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
    }
}

using System.Net;
using System.Net.Sockets;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Logs;
using LokiSharp.Querier.Peers;
using LokiSharp.Querier.Responses;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Tests;

/// <summary>
/// Peer heads from the querier's side: a peer that cannot be reached is a warning naming it while the other sources
/// answer; queries older than <c>query_ingesters_within</c> do not ask peers; the same line in several heads and the
/// store is returned once.
/// </summary>
public sealed class PeerHeadSourceTests
{
    private const long Second = 1_000_000_000;
    private static readonly LabelSet A = LabelSet.From(("app", "a"));

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    [Fact]
    public void An_unreachable_peer_is_a_warning_naming_it_and_the_store_still_answers()
    {
        var port = ClosedPort();
        using var peers = new PeerSet(new PeerOptions { Members = [$"127.0.0.1:{port}"], GrpcPort = 1, Timeout = TimeSpan.FromSeconds(5) }, TimeProvider.System);
        var warnings = new QueryWarnings();
        var store = new ChunkSource();
        var start = Now - (60 * Second);
        store.Add(A, [(start + Second, "stored")]);

        var sources = new List<ILogSource> { store };
        sources.AddRange(peers.ForQuery(warnings, CancellationToken.None));
        var query = new LogQuery("t", LogQLParser.ParseLogSelector("{app=\"a\"}"), start, Now + Second, 100, Direction.Forward);
        var result = new LogQueryEngine(sources, warnings: warnings).Select(query, CancellationToken.None);

        Assert.Equal(["stored"], result.Entries.Select(e => e.Line));
        var warning = Assert.Single(warnings.ToList());
        Assert.StartsWith($"ingester 127.0.0.1:{port} did not answer (", warning, StringComparison.Ordinal);
        Assert.EndsWith("): entries not yet stored that only it holds are missing", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void A_peer_that_accepts_but_never_answers_times_out_into_a_warning()
    {
        // The kernel completes the connection; nothing ever answers on it.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var peers = new PeerSet(new PeerOptions { Members = [$"127.0.0.1:{port}"], GrpcPort = 1, Timeout = TimeSpan.FromMilliseconds(500) },
            TimeProvider.System);
        var warnings = new QueryWarnings();
        var peer = Assert.Single(peers.ForQuery(warnings, CancellationToken.None));

        Assert.Empty(peer.SelectStreams("t", [new LabelMatcher("app", LogQL.Labels.MatchType.Equal, "a")], Now - (60 * Second), Now));
        Assert.Equal([$"ingester 127.0.0.1:{port} did not answer (timed out): entries not yet stored that only it holds are missing"], warnings.ToList());

        // Failed once, the peer is not asked again within the query.
        Assert.Empty(peer.LabelNames("t", [], Now - (60 * Second), Now));
        Assert.Single(warnings.ToList());
    }

    [Fact]
    public void A_query_ending_before_query_ingesters_within_does_not_ask_the_peers()
    {
        using var peers = new PeerSet(new PeerOptions { Members = [$"127.0.0.1:{ClosedPort()}"], GrpcPort = 1, QueryIngestersWithin = TimeSpan.FromHours(3) },
            TimeProvider.System);
        var warnings = new QueryWarnings();
        var peer = Assert.Single(peers.ForQuery(warnings, CancellationToken.None));

        var old = Now - (4 * 3600 * Second);
        Assert.Empty(peer.SelectStreams("t", [new LabelMatcher("app", LogQL.Labels.MatchType.Equal, "a")], old - (3600 * Second), old));
        Assert.Empty(peer.LabelNames("t", [], old - (3600 * Second), old));
        Assert.Equal(0, warnings.Count);
    }

    [Fact]
    public void Without_members_no_peer_is_read()
    {
        using var peers = new PeerSet(new PeerOptions(), TimeProvider.System);
        Assert.False(peers.Configured);
        Assert.Empty(peers.ForQuery(new QueryWarnings(), CancellationToken.None));
    }

    [Fact]
    public void A_line_in_several_heads_and_the_store_is_returned_once_and_counted_once()
    {
        // Three sources (this process's head, a peer's head, the store) hold overlapping copies; identical
        // (stream, timestamp, line) entries count once, different lines at one timestamp all count.
        var start = 1_700_000_000 * Second;
        var head = new ChunkSource();
        var peer = new ChunkSource();
        var store = new ChunkSource();
        head.Add(A, [(start + Second, "one"), (start + (2 * Second), "two"), (start + (2 * Second), "two bis")]);
        peer.Add(A, [(start + (2 * Second), "two"), (start + (2 * Second), "two bis"), (start + (3 * Second), "three")]);
        store.Add(A, [(start + Second, "one"), (start + (2 * Second), "two"), (start + (3 * Second), "three")]);
        ILogSource[] sources = [head, peer, store];

        var query = new LogQuery("t", LogQLParser.ParseLogSelector("{app=\"a\"}"), start, start + (60 * Second), 100, Direction.Forward);
        var result = new LogQueryEngine(sources).Select(query, CancellationToken.None);
        Assert.Equal(["one", "two", "two bis", "three"], result.Entries.Select(e => e.Line));
        Assert.Equal(5, result.Stats.Duplicates);

        var stats = new QueryStatistics();
        var evaluator = new LogQL.Evaluation.MetricQueryEvaluator(new Metrics.StoredSampleSource(sources, "t", stats));
        var metric = evaluator.Evaluate(LogQLParser.Parse("sum(count_over_time({app=\"a\"}[1m]))") as LogQL.Ast.SampleExpr ?? throw new InvalidOperationException(),
            LogQL.Evaluation.MetricQueryParameters.Instant(start + (59 * Second)), CancellationToken.None);
        Assert.Equal(4, Assert.Single(((LogQL.Evaluation.VectorResult)metric).Samples).Value);
        Assert.Equal(5, stats.Duplicates);
    }
}

using System.Net;
using LokiSharp.Querier.Peers;

namespace LokiSharp.Querier.Tests;

/// <summary>Peers from <c>memberlist.join_members</c>: the static list, DNS names with several addresses, this process left out.</summary>
public sealed class PeerDiscoveryTests
{
    [Theory]
    [InlineData("10.0.0.5:9096", "10.0.0.5", 9096)]
    [InlineData("10.0.0.5:7946", "10.0.0.5", 9095)]
    [InlineData("10.0.0.5", "10.0.0.5", 9095)]
    [InlineData("dns+loki-memberlist.ns.svc.cluster.local:7946", "loki-memberlist.ns.svc.cluster.local", 9095)]
    [InlineData("dns+loki-write-headless:9096", "loki-write-headless", 9096)]
    [InlineData("[::1]:9300", "::1", 9300)]
    [InlineData("[fe80::1]", "fe80::1", 9095)]
    public void An_entry_names_a_host_and_its_grpc_port(string entry, string host, int port) =>
        Assert.Equal((host, port), PeerDiscovery.Parse(entry, grpcPort: 9095, memberlistPort: 7946));

    [Theory]
    [InlineData("dnssrv+_memberlist._tcp.loki.ns.svc.cluster.local")]
    [InlineData("dnssrvnoa+_memberlist._tcp.loki")]
    [InlineData("host:port")]
    [InlineData("host:0")]
    [InlineData(":9096")]
    [InlineData("[::1")]
    public void Entries_that_cannot_be_dialled_are_ignored(string entry)
    {
        Assert.Null(PeerDiscovery.Parse(entry, 9095, 7946));
        Assert.Equal([entry], new PeerDiscovery(new PeerOptions { Members = [entry] }).Ignored);
    }

    [Fact]
    public async Task A_static_list_resolves_to_its_endpoints_sorted_and_distinct()
    {
        var discovery = new PeerDiscovery(new PeerOptions { Members = ["10.1.0.2:9096", "10.1.0.1:9096", "10.1.0.2:9096", "10.1.0.3:7946"], GrpcPort = 9095 });
        var failures = new List<string>();

        Assert.Equal(["10.1.0.1:9096", "10.1.0.2:9096", "10.1.0.3:9095"], await discovery.ResolveAsync(failures, CancellationToken.None));
        Assert.Empty(failures);
    }

    [Fact]
    public async Task A_dns_name_resolves_to_one_peer_per_address()
    {
        var addresses = (await Dns.GetHostAddressesAsync("localhost")).Select(a => new IPEndPoint(a, 9300).ToString()).Order(StringComparer.Ordinal);
        var discovery = new PeerDiscovery(new PeerOptions { Members = ["dns+localhost:9300"], GrpcPort = 9095 });

        Assert.Equal(addresses, await discovery.ResolveAsync([], CancellationToken.None));
    }

    [Fact]
    public async Task A_name_that_does_not_resolve_is_reported_and_the_others_kept()
    {
        var discovery = new PeerDiscovery(new PeerOptions { Members = ["dns+no-such-peer.invalid:9300", "10.1.0.1:9300"] });
        var failures = new List<string>();

        Assert.Equal(["10.1.0.1:9300"], await discovery.ResolveAsync(failures, CancellationToken.None));
        Assert.StartsWith("no-such-peer.invalid: ", Assert.Single(failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task This_process_is_not_its_own_peer()
    {
        // The same address on another port is another process; on this process's gRPC port it is this one, whether
        // found through an interface, loopback or the advertised address.
        var discovery = new PeerDiscovery(new PeerOptions
        {
            Members = ["127.0.0.1:9095", "dns+localhost:9095", "127.0.0.1:9096", "192.0.2.7:9095", "192.0.2.8:9095"],
            GrpcPort = 9095,
            SelfAddresses = ["192.0.2.7"],
        });

        Assert.Equal(["127.0.0.1:9096", "192.0.2.8:9095"], await discovery.ResolveAsync([], CancellationToken.None));
    }
}

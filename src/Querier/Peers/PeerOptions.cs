namespace LokiSharp.Querier.Peers;

/// <summary>Where the ingesters whose heads a querier reads are, and how long it waits for them.</summary>
public sealed record PeerOptions
{
    /// <summary>
    /// Peer entries as Loki's <c>memberlist.join_members</c> writes them: <c>host:port</c>, <c>host</c>,
    /// <c>dns+host:port</c> (every A/AAAA record of a Kubernetes headless Service). <c>dnssrv+</c> entries are not
    /// resolved (no SRV lookup in .NET); <see cref="PeerDiscovery"/> reports them as ignored.
    /// </summary>
    public IReadOnlyList<string> Members { get; init; } = [];

    /// <summary>
    /// This process's gRPC port (<c>server.grpc_listen_port</c>): peers are dialled on it when an entry has no port
    /// or names <see cref="MemberlistPort"/>, since every pod of a role listens on the same ports.
    /// </summary>
    public int GrpcPort { get; init; } = 9095;

    /// <summary><c>memberlist.bind_port</c>: an entry with this port names a pod, not its gRPC port.</summary>
    public int MemberlistPort { get; init; } = 7946;

    /// <summary>
    /// This process's advertised address (<c>ingester.lifecycler.address</c>, <c>common.ring.instance_addr</c>,
    /// <c>common.instance_addr</c>), besides its interfaces' addresses, so it never reads its own head as a peer.
    /// </summary>
    public IReadOnlyList<string> SelfAddresses { get; init; } = [];

    /// <summary>How long a peer may take to answer a call or send the next batch (<c>ingester_client.remote_timeout</c>).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Queries ending before now minus this skip the peers (<c>querier.query_ingesters_within</c>; zero: never skip).</summary>
    public TimeSpan QueryIngestersWithin { get; init; } = TimeSpan.FromHours(3);

    /// <summary>How often names are resolved again: a new pod becomes a peer within this delay.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(15);
}

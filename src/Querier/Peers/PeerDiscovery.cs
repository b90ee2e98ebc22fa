using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace LokiSharp.Querier.Peers;

/// <summary>
/// Finds peer ingesters without gossip: resolves the configured entries (a static list, or DNS names such as a
/// Kubernetes headless Service, one address per pod) to <c>ip:port</c> gRPC endpoints, leaving out this process.
/// </summary>
public sealed class PeerDiscovery
{
    private readonly PeerOptions _options;
    private readonly List<(string Host, int Port)> _entries = [];
    private readonly HashSet<IPAddress> _selfAddresses = [];

    /// <summary>Parses <see cref="PeerOptions.Members"/>; entries that cannot be used are listed in <see cref="Ignored"/>.</summary>
    public PeerDiscovery(PeerOptions options)
    {
        _options = options;
        var ignored = new List<string>();
        foreach (var member in options.Members)
        {
            if (Parse(member, options.GrpcPort, options.MemberlistPort) is { } entry)
            {
                _entries.Add(entry);
            }
            else
            {
                ignored.Add(member);
            }
        }

        Ignored = ignored;
    }

    /// <summary>Entries left out: <c>dnssrv+</c>/<c>dnssrvnoa+</c> (SRV lookups are not supported) and malformed ones.</summary>
    public IReadOnlyList<string> Ignored { get; }

    /// <summary>Whether any entry was configured.</summary>
    public bool HasEntries => _entries.Count > 0;

    /// <summary>
    /// One entry as host and gRPC port, or null when it cannot be used. A port equal to <paramref name="memberlistPort"/>,
    /// or none, means the pod's gRPC port (<paramref name="grpcPort"/>); another port is the peer's gRPC port itself.
    /// </summary>
    public static (string Host, int Port)? Parse(string entry, int grpcPort, int memberlistPort)
    {
        var text = entry.Trim();
        if (text.StartsWith("dnssrv+", StringComparison.Ordinal) || text.StartsWith("dnssrvnoa+", StringComparison.Ordinal))
        {
            return null;
        }

        if (text.StartsWith("dns+", StringComparison.Ordinal))
        {
            text = text["dns+".Length..];
        }

        string host;
        int port;
        if (text.StartsWith('['))
        {
            // [v6]:port or [v6]
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return null;
            }

            host = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length == 0)
            {
                port = grpcPort;
            }
            else if (!rest.StartsWith(':') || !int.TryParse(rest[1..], out port))
            {
                return null;
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                (host, port) = (text, grpcPort);
            }
            else if (text.IndexOf(':', StringComparison.Ordinal) != colon || !int.TryParse(text[(colon + 1)..], out port))
            {
                return null;
            }
            else
            {
                host = text[..colon];
            }
        }

        if (host.Length == 0 || port is <= 0 or > 65535)
        {
            return null;
        }

        return (host, port == memberlistPort ? grpcPort : port);
    }

    /// <summary>
    /// Resolves every entry to <c>ip:port</c> endpoints, sorted and distinct, without this process's own endpoint. A
    /// name that does not resolve is left out and named in <paramref name="failures"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> ResolveAsync(List<string> failures, CancellationToken cancellationToken)
    {
        if (_selfAddresses.Count == 0)
        {
            await CollectSelfAddressesAsync(cancellationToken).ConfigureAwait(false);
        }

        var endpoints = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (host, port) in _entries)
        {
            IPAddress[] addresses;
            if (IPAddress.TryParse(host, out var literal))
            {
                addresses = [literal];
            }
            else
            {
                try
                {
                    addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    failures.Add($"{host}: {e.Message}");
                    continue;
                }
            }

            foreach (var address in addresses)
            {
                var normal = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
                if (port == _options.GrpcPort && _selfAddresses.Contains(normal))
                {
                    continue;
                }

                endpoints.Add(new IPEndPoint(normal, port).ToString());
            }
        }

        return [.. endpoints];
    }

    // This process's own addresses: every interface's, and the advertised ones (which may be names).
    private async Task CollectSelfAddressesAsync(CancellationToken cancellationToken)
    {
        _selfAddresses.Add(IPAddress.Loopback);
        _selfAddresses.Add(IPAddress.IPv6Loopback);
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    _selfAddresses.Add(unicast.Address);
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Interfaces could not be listed; the configured addresses and loopback still count.
        }

        foreach (var self in _options.SelfAddresses)
        {
            if (self.Length == 0)
            {
                continue;
            }

            if (IPAddress.TryParse(self, out var literal))
            {
                _selfAddresses.Add(literal);
                continue;
            }

            try
            {
                foreach (var address in await Dns.GetHostAddressesAsync(self, cancellationToken).ConfigureAwait(false))
                {
                    _selfAddresses.Add(address);
                }
            }
            catch (SocketException)
            {
                // An advertised name that does not resolve cannot be dialled either.
            }
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using DnsClient;

namespace LokiSharp.Ruler.Notifications;

/// <summary>
/// The Alertmanagers of <c>ruler.alertmanager_url</c>: each comma-separated URL is a group (Loki's
/// <c>buildNotifierConfig</c>); without discovery it is one Alertmanager, with discovery its host is an SRV name
/// resolved every refresh interval into the Alertmanagers of the group, keeping the last answer when a lookup fails.
/// </summary>
public sealed partial class AlertmanagerTargets
{
    private readonly Group[] _groups;
    private readonly Func<string, CancellationToken, Task<IReadOnlyList<DnsEndPoint>>> _resolveSrv;
    private volatile IReadOnlyList<AlertmanagerEndpoint> _current = [];

    /// <summary>Parses the URLs; throws <see cref="ArgumentException"/> with Loki's text for a bad one.</summary>
    public AlertmanagerTargets(AlertmanagerNotifierOptions options, Func<string, CancellationToken, Task<IReadOnlyList<DnsEndPoint>>>? resolveSrv = null)
    {
        Discovery = options.EnableAlertmanagerDiscovery;
        _resolveSrv = resolveSrv ?? ResolveSrvAsync;
        var groups = new List<Group>();
        foreach (var text in options.AlertmanagerUrl.Split(','))
        {
            var trimmed = text.Trim();
            if (trimmed.Length == 0)
            {
                continue;
            }

            if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var url) || (url.Scheme != "http" && url.Scheme != "https"))
            {
                throw new ArgumentException($"invalid alertmanager_url \"{trimmed}\": expected an absolute http or https URL");
            }

            if (Discovery && !SrvName().IsMatch(url.Host))
            {
                throw new ArgumentException(
                    $"when alertmanager-discovery is on, host name must be of the form _portname._tcp.service.fqdn (is \"{url.Authority}\")");
            }

            groups.Add(new Group(url, BasicAuthFor(url, options.AlertmanagerClient)));
        }

        _groups = [.. groups];
        if (!Discovery)
        {
            _current = [.. _groups.Select(g => new AlertmanagerEndpoint(PostUrl(g.Url, g.Url.Host, g.Url.Port), g.BasicAuth))];
        }
    }

    /// <summary>Whether the hosts are SRV names that <see cref="RefreshAsync"/> resolves.</summary>
    public bool Discovery { get; }

    /// <summary>The Alertmanagers known now.</summary>
    public IReadOnlyList<AlertmanagerEndpoint> Current => _current;

    /// <summary>Resolves the SRV names again (nothing to do without discovery); a failed lookup keeps its group's last answer.</summary>
    public async Task RefreshAsync(Action<string>? log, CancellationToken cancellationToken)
    {
        if (!Discovery)
        {
            return;
        }

        var endpoints = new List<AlertmanagerEndpoint>();
        foreach (var group in _groups)
        {
            try
            {
                var found = await _resolveSrv(group.Url.Host, cancellationToken).ConfigureAwait(false);
                group.Last = [.. found.Select(e => new AlertmanagerEndpoint(PostUrl(group.Url, e.Host, e.Port), group.BasicAuth))];
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log?.Invoke($"level=error msg=\"error resolving alertmanager SRV name\" name={group.Url.Host} err=\"{e.Message}\"");
            }

            endpoints.AddRange(group.Last);
        }

        _current = endpoints;
    }

    // Prometheus joins the path prefix and the API path ("path.Join"), so a trailing slash makes no difference.
    private static Uri PostUrl(Uri configured, string host, int port)
    {
        var prefix = configured.AbsolutePath.TrimEnd('/');
        return new UriBuilder(configured.Scheme, host.TrimEnd('.'), port, prefix + "/api/v2/alerts").Uri;
    }

    // Loki: a user:password in the URL is basic auth, overridden by alertmanager_client's basic_auth_* when set.
    private static AuthenticationHeaderValue? BasicAuthFor(Uri url, AlertmanagerClientOptions client)
    {
        string user;
        string password;
        if (client.BasicAuthUsername.Length > 0 || client.BasicAuthPassword.Length > 0)
        {
            (user, password) = (client.BasicAuthUsername, client.BasicAuthPassword);
        }
        else if (url.UserInfo.Length > 0)
        {
            var colon = url.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon < 0 ? url.UserInfo : url.UserInfo[..colon]);
            password = colon < 0 ? "" : Uri.UnescapeDataString(url.UserInfo[(colon + 1)..]);
        }
        else
        {
            return null;
        }

        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));
    }

    private static async Task<IReadOnlyList<DnsEndPoint>> ResolveSrvAsync(string name, CancellationToken cancellationToken)
    {
        var lookup = new LookupClient();
        var response = await lookup.QueryAsync(name, QueryType.SRV, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.HasError)
        {
            throw new InvalidOperationException(response.ErrorMessage);
        }

        return [.. response.Answers.SrvRecords().Select(r => new DnsEndPoint(r.Target.Value.TrimEnd('.'), r.Port))];
    }

    // Loki's srvDNSregexp: only SRV lookups are supported, so the name must look like _service._proto.name.
    [GeneratedRegex(@"^_.+._.+")]
    private static partial Regex SrvName();

    private sealed class Group(Uri url, AuthenticationHeaderValue? basicAuth)
    {
        public Uri Url { get; } = url;

        public AuthenticationHeaderValue? BasicAuth { get; } = basicAuth;

        public IReadOnlyList<AlertmanagerEndpoint> Last { get; set; } = [];
    }
}

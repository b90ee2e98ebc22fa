using LokiSharp.Ruler.Delivery;

namespace LokiSharp.Ruler.RemoteWrite;

/// <summary>
/// Where and how recorded samples are sent: Loki's <c>ruler.remote_write</c> block (<c>client</c> is a Prometheus
/// <c>remote_write</c> entry). Each property is named after the key it comes from.
/// </summary>
public sealed record RemoteWriteOptions
{
    /// <summary><c>client.url</c>: the receiver, e.g. <c>http://prometheus:9090/api/v1/write</c>.</summary>
    public required Uri Url { get; init; }

    /// <summary><c>client.name</c>: the <c>remote_name</c> label; empty uses a short hash of the URL, as Prometheus does.</summary>
    public string Name { get; init; } = "";

    /// <summary><c>client.remote_timeout</c>: the timeout of one request.</summary>
    public TimeSpan RemoteTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>client.headers</c>: sent with every request (they may not replace the protocol's own headers).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary><c>client.basic_auth.username</c>.</summary>
    public string BasicAuthUsername { get; init; } = "";

    /// <summary><c>client.basic_auth.password</c>.</summary>
    public string BasicAuthPassword { get; init; } = "";

    /// <summary><c>client.authorization.type</c>.</summary>
    public string AuthorizationType { get; init; } = "Bearer";

    /// <summary><c>client.authorization.credentials</c> (used when no basic auth is set).</summary>
    public string AuthorizationCredentials { get; init; } = "";

    /// <summary><c>client.tls_config.insecure_skip_verify</c>, <c>ca_file</c>, <c>server_name</c>.</summary>
    public ClientTls Tls { get; init; } = new();

    /// <summary><c>client.queue_config.capacity</c>: samples queued per tenant before the oldest are dropped.</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary><c>client.queue_config.max_samples_per_send</c>.</summary>
    public int MaxSamplesPerSend { get; init; } = 2_000;

    /// <summary><c>client.queue_config.min_backoff</c>: the first retry delay, doubled after each failure.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(30);

    /// <summary><c>client.queue_config.max_backoff</c>.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>remote_write.add_org_id_header</c>: send the tenant in <c>X-Scope-OrgID</c>.</summary>
    public bool AddOrgIdHeader { get; init; } = true;

    /// <summary>How long stopping waits for queued samples to be sent.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    // Prometheus' reservedHeaders: the protocol's own and the hop-by-hop ones.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "content-encoding", "content-length", "content-type", "user-agent", "connection", "keep-alive", "proxy-authenticate",
        "proxy-authorization", "www-authenticate", "accept-encoding", "x-prometheus-remote-write-version", "x-prometheus-remote-read-version",
    };

    /// <summary>Throws <see cref="ArgumentException"/> with Prometheus' config error texts for what it refuses to load.</summary>
    public void Validate()
    {
        if (!Url.IsAbsoluteUri || (Url.Scheme != "http" && Url.Scheme != "https"))
        {
            throw new ArgumentException($"invalid remote_write url \"{Url}\": expected an absolute http or https URL");
        }

        foreach (var header in Headers.Keys)
        {
            if (header.Equals("authorization", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException(
                    "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter");
            }

            if (ReservedHeaders.Contains(header))
            {
                throw new ArgumentException($"{header} is a reserved header. It must not be changed");
            }
        }

        if ((BasicAuthUsername.Length > 0 || BasicAuthPassword.Length > 0) && AuthorizationCredentials.Length > 0)
        {
            throw new ArgumentException("at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. " +
                "Currently configured: [basic_auth authorization]");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSamplesPerSend, 1);
    }
}

namespace LokiSharp.Ruler.Configuration;

/// <summary>
/// Where recording rules' samples go (Loki's <c>ruler.remote_write</c>): the clients by id (<c>clients</c>, plus the
/// deprecated single <c>client</c> under the id <c>default</c>).
/// </summary>
public sealed record RemoteWriteOptions
{
    /// <summary><c>enabled</c>: without it recorded samples are dropped, as in Loki.</summary>
    public bool Enabled { get; init; }

    /// <summary><c>add_org_id_header</c>: send the rule's tenant as <c>X-Scope-OrgID</c>.</summary>
    public bool AddOrgIdHeader { get; init; } = true;

    /// <summary><c>config_refresh_period</c>.</summary>
    public TimeSpan ConfigRefreshPeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The remote-write endpoints.</summary>
    public IReadOnlyList<RemoteWriteClientOptions> Clients { get; init; } = [];
}

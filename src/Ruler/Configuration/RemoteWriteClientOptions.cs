namespace LokiSharp.Ruler.Configuration;

/// <summary>One Prometheus remote-write endpoint (<c>ruler.remote_write.clients.&lt;id&gt;</c>).</summary>
public sealed record RemoteWriteClientOptions
{
    /// <summary>The client's id (the map key) or its <c>name</c>.</summary>
    public required string Name { get; init; }

    /// <summary><c>url</c>: the receiver, e.g. Prometheus' <c>/api/v1/write</c>.</summary>
    public required string Url { get; init; }

    /// <summary><c>remote_timeout</c>.</summary>
    public TimeSpan RemoteTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>headers</c>: sent with every request (Loki drops <c>X-Scope-OrgID</c> here).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary><c>basic_auth.username</c>.</summary>
    public string BasicAuthUsername { get; init; } = "";

    /// <summary><c>basic_auth.password</c>.</summary>
    public string BasicAuthPassword { get; init; } = "";

    /// <summary><c>bearer_token</c>.</summary>
    public string BearerToken { get; init; } = "";
}

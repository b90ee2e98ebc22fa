namespace LokiSharp.Ruler.Configuration;

/// <summary>
/// Where and how alerts are sent (Loki's <c>ruler.alertmanager_*</c>, <c>notification_*</c> and
/// <c>alertmanager_client</c> keys). No URL: alerts are evaluated but not sent, as in Loki.
/// </summary>
public sealed record AlertmanagerClientOptions
{
    /// <summary><c>alertmanager_url</c>, split at commas; each URL is its own Alertmanager group.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [];

    /// <summary><c>enable_alertmanager_discovery</c>: resolve the URLs' hosts through DNS SRV records.</summary>
    public bool Discovery { get; init; }

    /// <summary><c>alertmanager_refresh_interval</c>: how often discovered hosts are resolved again.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary><c>enable_alertmanager_v2</c>: Loki 3's default; only the v2 API exists in current Alertmanagers.</summary>
    public bool UseV2Api { get; init; } = true;

    /// <summary><c>notification_queue_capacity</c>: alerts queued before the oldest are dropped.</summary>
    public int QueueCapacity { get; init; } = 10000;

    /// <summary><c>notification_timeout</c>: the HTTP timeout of one send.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>alertmanager_client.basic_auth_username</c>.</summary>
    public string BasicAuthUsername { get; init; } = "";

    /// <summary><c>alertmanager_client.basic_auth_password</c>.</summary>
    public string BasicAuthPassword { get; init; } = "";

    /// <summary><c>alertmanager_client.type</c>: the <c>Authorization</c> scheme (default <c>Bearer</c>).</summary>
    public string AuthorizationType { get; init; } = "Bearer";

    /// <summary><c>alertmanager_client.credentials</c>: the <c>Authorization</c> credentials.</summary>
    public string Credentials { get; init; } = "";

    /// <summary><c>alertmanager_client.credentials_file</c>: a file holding the credentials.</summary>
    public string CredentialsFile { get; init; } = "";

    /// <summary><c>alertmanager_client.tls_insecure_skip_verify</c>.</summary>
    public bool TlsInsecureSkipVerify { get; init; }

    /// <summary><c>alertmanager_client.tls_ca_path</c>.</summary>
    public string TlsCaPath { get; init; } = "";

    /// <summary><c>alertmanager_client.tls_cert_path</c>.</summary>
    public string TlsCertPath { get; init; } = "";

    /// <summary><c>alertmanager_client.tls_key_path</c>.</summary>
    public string TlsKeyPath { get; init; } = "";

    /// <summary><c>alertmanager_client.tls_server_name</c>.</summary>
    public string TlsServerName { get; init; } = "";

    /// <summary>Whether any Alertmanager is configured.</summary>
    public bool Enabled => Urls.Count > 0;
}

using LokiSharp.Ruler.Delivery;

namespace LokiSharp.Ruler.Notifications;

/// <summary>
/// Loki's <c>ruler.alertmanager_client</c> block: basic auth (overriding a user:password in the URL), header
/// authorization and TLS.
/// </summary>
public sealed record AlertmanagerClientOptions
{
    /// <summary><c>basic_auth_username</c>.</summary>
    public string BasicAuthUsername { get; init; } = "";

    /// <summary><c>basic_auth_password</c>.</summary>
    public string BasicAuthPassword { get; init; } = "";

    /// <summary><c>type</c>: the Authorization scheme used with <see cref="Credentials"/>.</summary>
    public string Type { get; init; } = "Bearer";

    /// <summary><c>credentials</c>.</summary>
    public string Credentials { get; init; } = "";

    /// <summary><c>credentials_file</c>: read at every send, so a rotated token is picked up.</summary>
    public string CredentialsFile { get; init; } = "";

    /// <summary><c>tls_insecure_skip_verify</c>, <c>tls_ca_path</c>, <c>tls_server_name</c>.</summary>
    public ClientTls Tls { get; init; } = new();
}

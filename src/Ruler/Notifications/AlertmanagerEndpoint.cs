using System.Net.Http.Headers;

namespace LokiSharp.Ruler.Notifications;

/// <summary>One Alertmanager alerts are posted to: its <c>/api/v2/alerts</c> URL and the basic auth of its group.</summary>
public sealed record AlertmanagerEndpoint(Uri PostUrl, AuthenticationHeaderValue? BasicAuth);

namespace LokiSharp.Server.Configuration;

/// <summary>
/// Marks a configuration string that must not be printed in clear (<c>/config</c>, <c>-print-config-stderr</c>):
/// like Loki's <c>flagext.Secret</c> a set value prints as <c>********</c>; with <see cref="UrlPassword"/>, like
/// <c>flagext.URLValue</c>, only the URL's password is replaced by <c>xxxxx</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class SecretAttribute : Attribute
{
    /// <summary>What Loki prints for a set secret.</summary>
    public const string Mask = "********";

    /// <summary>The value is a URL whose password (in <c>user:password@</c>) is the secret part.</summary>
    public bool UrlPassword { get; init; }

    /// <summary>The value as it may be printed.</summary>
    public string Redact(string value) => value.Length == 0 ? value : UrlPassword ? RedactUrl(value) : Mask;

    /// <summary>A URL with the password of its user information replaced by <c>xxxxx</c>, as Go's <c>url.Redacted</c> does.</summary>
    public static string RedactUrl(string url)
    {
        // The last '@' rather than the authority's: an unescaped '/' in a secret must not make it print in clear.
        var start = url.IndexOf("://", StringComparison.Ordinal);
        start = start < 0 ? 0 : start + 3;
        var at = url.LastIndexOf('@');
        var colon = at < start ? -1 : url.IndexOf(':', start, at - start);
        return colon < 0 ? url : string.Concat(url.AsSpan(0, colon + 1), "xxxxx", url.AsSpan(at));
    }
}

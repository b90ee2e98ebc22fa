namespace LokiSharp.Server.Configuration;

/// <summary>A configuration that cannot be used; the message names the file, line and key.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message)
        : base(message)
    {
    }

    public ConfigException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>Something about an accepted configuration worth telling the operator once at start-up.</summary>
/// <param name="Key">The key path, e.g. <c>storage_config.aws</c>.</param>
/// <param name="Line">1-based line in the source file.</param>
/// <param name="Kind">Why the key is not applied.</param>
public sealed record ConfigNotice(string Key, long Line, ConfigNoticeKind Kind);

/// <summary>Why an accepted key has no effect.</summary>
public enum ConfigNoticeKind
{
    /// <summary>A key Loki 3.x knows that LokiSharp does not implement.</summary>
    Ignored,

    /// <summary>A key only older Loki versions use.</summary>
    Deprecated,
}

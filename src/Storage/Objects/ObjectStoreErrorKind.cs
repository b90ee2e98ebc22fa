namespace LokiSharp.Storage.Objects;

/// <summary>What an <see cref="ObjectStoreException"/> means for the caller.</summary>
public enum ObjectStoreErrorKind
{
    /// <summary>The object does not exist.</summary>
    NotFound,

    /// <summary>The store could not answer now (network, timeout, throttling, server error): retry with backoff.</summary>
    Transient,

    /// <summary>The store is set up wrong (credentials, bucket, permissions, an unsupported feature): retrying will not help.</summary>
    Configuration,

    /// <summary>Any other failure that a retry will not cure.</summary>
    Permanent,
}

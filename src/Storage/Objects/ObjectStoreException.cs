namespace LokiSharp.Storage.Objects;

/// <summary>A failed object store operation; <see cref="Kind"/> tells "not found" from "retry later" from "fix the config".</summary>
public sealed class ObjectStoreException : Exception
{
    /// <summary>Creates the exception for <paramref name="key"/> (null when no single key is involved).</summary>
    public ObjectStoreException(ObjectStoreErrorKind kind, string? key, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Key = key;
    }

    /// <summary>What the failure means for the caller.</summary>
    public ObjectStoreErrorKind Kind { get; }

    /// <summary>The object key the operation was about, if any.</summary>
    public string? Key { get; }

    /// <summary>Whether the same operation may succeed if tried again later.</summary>
    public bool IsTransient => Kind == ObjectStoreErrorKind.Transient;

    /// <summary>The exception for a missing object.</summary>
    public static ObjectStoreException NotFound(string key, Exception? innerException = null) =>
        new(ObjectStoreErrorKind.NotFound, key, $"object {key} does not exist", innerException);
}

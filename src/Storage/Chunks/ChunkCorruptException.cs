namespace LokiSharp.Storage.Chunks;

/// <summary>A chunk, block or index record failed its checksum or structural checks and was not used.</summary>
public sealed class ChunkCorruptException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChunkCorruptException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ChunkCorruptException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ChunkCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

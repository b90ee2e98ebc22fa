namespace LokiSharp.Storage.Store;

/// <summary>A pack file on disk, or a pack object in a bucket.</summary>
/// <param name="PackId">Its id (the file name; in a bucket, the id within its writer).</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Name">
/// In a bucket, <c>writer/packId</c> (16 hex digits), which <see cref="ChunkStore.DeletePackIfUnreferenced(string, string)"/>
/// takes; for the local layout, the id in 16 hex digits.
/// </param>
public readonly record struct PackFileInfo(long PackId, long Bytes, string? Name = null)
{
    /// <summary>The name the compactor's marks keep: <see cref="Name"/>, or the id in 16 hex digits.</summary>
    public string MarkName => Name ?? PackId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}

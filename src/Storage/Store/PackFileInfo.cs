namespace LokiSharp.Storage.Store;

/// <summary>A pack file on disk.</summary>
/// <param name="PackId">Its id (the file name).</param>
/// <param name="Bytes">Its size.</param>
public readonly record struct PackFileInfo(long PackId, long Bytes);

using Microsoft.Win32.SafeHandles;

namespace LokiSharp.Storage.Reading;

/// <summary>An encoded chunk kept in a file rather than in memory, for <see cref="ChunkEntryReader"/>.</summary>
/// <param name="File">Open handle of the file; read with positional reads, so many readers may share it.</param>
/// <param name="Offset">Where the chunk starts in the file.</param>
/// <param name="Length">Encoded chunk length.</param>
/// <param name="MinTime">First entry timestamp, Unix ns.</param>
/// <param name="MaxTime">Last entry timestamp, Unix ns (inclusive).</param>
/// <param name="Entries">Entry count.</param>
/// <param name="Tail">Where a line-filtered read keeps the chunk's tail between searches, or null to read it each time.</param>
public readonly record struct FileChunk(SafeFileHandle File, long Offset, int Length, long MinTime, long MaxTime, int Entries,
    FileChunkTail? Tail = null);

using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// A compressed run of a block's entries: a complete chunk of one block, sorted by time. Its bytes are in a spill
/// file (<see cref="HeadSpill"/>), or in memory when there is no spill or the disk refused them.
/// </summary>
internal sealed class HeadPart
{
    private readonly HeadSpill? _spill;
    private readonly SpillFile? _file;
    private readonly long _offset;
    private byte[]? _memory;
    private FileChunkTail? _tail;
    private bool _released;

    private HeadPart(ChunkSummary summary, int entries, int length, HeadSpill? spill, SpillFile? file, long offset, byte[]? memory)
    {
        Summary = summary;
        Entries = entries;
        Length = length;
        _spill = spill;
        _file = file;
        _offset = offset;
        _memory = memory;
    }

    public ChunkSummary Summary { get; }

    public int Entries { get; }

    /// <summary>Encoded chunk length.</summary>
    public int Length { get; }

    /// <summary>The chunk's bytes in memory, or null when they are in a spill file.</summary>
    public byte[]? InMemory => _memory;

    /// <summary>Keeps <paramref name="chunk"/> in a spill file when possible, else in a pinned array.</summary>
    public static HeadPart Create(ReadOnlySpan<byte> chunk, ChunkSummary summary, int entries, HeadSpill? spill)
    {
        if (spill is not null && spill.TryWrite(chunk, out var file, out var offset))
        {
            return new HeadPart(summary, entries, chunk.Length, spill, file, offset, null);
        }

        // Pinned: parts live until the block is stored, and the pinned heap never copies them between generations.
        var copy = GC.AllocateUninitializedArray<byte>(chunk.Length, pinned: true);
        chunk.CopyTo(copy);
        return new HeadPart(summary, entries, chunk.Length, null, null, 0, copy);
    }

    /// <summary>Where searches keep the spilled part's tail, once one has read it; null before.</summary>
    public FileChunkTail? Tail => _tail;

    /// <summary>The spill file holding the part, or null when it is in memory.</summary>
    public SpillFile? File => _file;

    /// <summary>
    /// The spilled part for a reader, who must hold <see cref="File"/> open (<see cref="SpillFile.BeginRead"/>) until it
    /// is done; called under the owning stream's lock, so the part cannot be released meanwhile.
    /// </summary>
    public FileChunk ForRead()
    {
        // Made by the first read, not at spill time: parts no search reaches cost no memory.
        _tail ??= new FileChunkTail(_spill!.Tails);
        return new FileChunk(_file!.Handle, _offset, Length, Summary.MinTime, Summary.MaxTime, Entries, _tail);
    }

    /// <summary>The chunk's bytes for storing: the in-memory array, or a new copy read from the spill file.</summary>
    public byte[] Load()
    {
        if (_memory is { } memory)
        {
            return memory;
        }

        var bytes = GC.AllocateUninitializedArray<byte>(Length);
        if (FileReads.ReadFully(_file!.Handle, bytes, _offset) < Length)
        {
            throw new IOException($"head spill file ends before part at offset {_offset} (+{Length} bytes)");
        }

        return bytes;
    }

    /// <summary>The part left the head: its spill space (or memory) is given back. Idempotent.</summary>
    public void Release()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        _memory = null;
        _tail?.Release();
        if (_file is not null)
        {
            _spill!.Release(_file, Length);
        }
    }
}

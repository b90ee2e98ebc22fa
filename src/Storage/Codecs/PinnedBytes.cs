using System.Buffers;

namespace LokiSharp.Storage.Codecs;

/// <summary>
/// Pinned bytes (a span the caller holds fixed) seen as <see cref="Memory{T}"/> and as a one-shot
/// <see cref="IBufferWriter{T}"/>, for codec APIs that take memory or a writer: they then read the caller's input and
/// write into the caller's output in place, without an intermediate buffer to copy from and clear. Valid only while
/// the caller keeps the bytes fixed; one instance is reused (<see cref="Point"/>) so a block costs no allocation.
/// </summary>
internal sealed unsafe class PinnedBytes : MemoryManager<byte>, IBufferWriter<byte>
{
    private byte* _pointer;
    private int _length;

    /// <summary>Bytes the writer side has been advanced over.</summary>
    public int Written { get; private set; }

    /// <summary>Makes this instance stand for <paramref name="count"/> bytes at <paramref name="at"/>, none written yet.</summary>
    public PinnedBytes Point(byte* at, int count)
    {
        _pointer = at;
        _length = count;
        Written = 0;
        return this;
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)(_length - Written), nameof(count));
        Written += count;
    }

    // A writer that asks for more than is left gets what is left: the codec's own bounds checks then reject the block.
    public Memory<byte> GetMemory(int sizeHint = 0) => Memory[Written..];

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint) => GetSpan()[Written..];

    protected override void Dispose(bool disposing)
    {
    }
}

using System.Buffers;

namespace LokiSharp.Storage.Codecs;

/// <summary>
/// Pinned bytes (a span the caller holds fixed) seen as <see cref="Memory{T}"/> and as a one-shot
/// <see cref="IBufferWriter{T}"/>, for codec APIs that take memory or a writer: they then read the caller's input and
/// write into the caller's output in place, without an intermediate buffer to copy from and clear. Valid only while
/// the caller keeps the bytes fixed.
/// </summary>
internal sealed unsafe class PinnedBytes(byte* pointer, int length) : MemoryManager<byte>, IBufferWriter<byte>
{
    /// <summary>Bytes the writer side has been advanced over.</summary>
    public int Written { get; private set; }

    public override Span<byte> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)length, nameof(elementIndex));
        return new MemoryHandle(pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)(length - Written), nameof(count));
        Written += count;
    }

    // A writer that asks for more than is left gets what is left: the codec's own bounds checks then reject the block.
    public Memory<byte> GetMemory(int sizeHint = 0) => Memory[Written..];

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint) => GetSpan()[Written..];

    protected override void Dispose(bool disposing)
    {
    }
}

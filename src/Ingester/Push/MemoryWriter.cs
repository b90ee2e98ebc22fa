using System.Buffers;

namespace LokiSharp.Ingester.Push;

/// <summary>
/// A one-shot <see cref="IBufferWriter{T}"/> over memory the caller owns, for a codec that can write through a writer:
/// it then writes that memory in place, with no buffer of its own to copy out of and clear. A writer that asks for more
/// than is left gets what is left, so the codec's own bounds checks reject an input that would overrun the memory.
/// </summary>
internal sealed class MemoryWriter(Memory<byte> memory) : IBufferWriter<byte>
{
    /// <summary>Bytes written so far (advanced over).</summary>
    public int Written { get; private set; }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)(memory.Length - Written), nameof(count));
        Written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => memory[Written..];

    public Span<byte> GetSpan(int sizeHint = 0) => memory.Span[Written..];
}

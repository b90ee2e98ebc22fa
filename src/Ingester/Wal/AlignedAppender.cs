using System.Runtime.InteropServices;
using LokiSharp.Storage.Store;
using Microsoft.Win32.SafeHandles;

namespace LokiSharp.Ingester.Wal;

/// <summary>
/// Appends to a file opened for direct I/O (<see cref="DirectWrites"/>), whose writes must start and end on
/// <see cref="DirectWrites.Alignment"/> boundaries: bytes go through an aligned buffer that keeps the file's last, partial
/// block, which each append writes again with the new bytes after it and zeros up to the block's end. The file is
/// therefore longer than what was appended, by zeros that the next append overwrites. Not thread-safe.
/// </summary>
internal sealed class AlignedAppender
{
    // A commit larger than the buffer is written in pieces of this size; it bounds the memory the log holds.
    private const int Capacity = 1 << 20;

    // Pinned (the pinned object heap) so the aligned window's address never moves.
    private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(Capacity + DirectWrites.Alignment, pinned: true);
    private readonly int _start;

    // Bytes of the file's last, partial block, at the start of the window.
    private int _carried;

    public AlignedAppender()
    {
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(_array, 0);
        _start = (int)((DirectWrites.Alignment - (address % DirectWrites.Alignment)) % DirectWrites.Alignment);
    }

    private Span<byte> Window => _array.AsSpan(_start, Capacity);

    /// <summary>Starts over for an empty file.</summary>
    public void Reset() => _carried = 0;

    /// <summary>
    /// Takes the last, partial block of the first <paramref name="length"/> bytes of the file at <paramref name="path"/>
    /// (after a failed append was cut off), so the next append continues after them.
    /// </summary>
    public void Reload(string path, long length)
    {
        var blockStart = length - (length % DirectWrites.Alignment);
        _carried = (int)(length - blockStart);
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var read = 0;
        while (read < _carried)
        {
            var n = RandomAccess.Read(file, Window[read.._carried], blockStart + read);
            if (n == 0)
            {
                throw new IOException($"{path} ends before its committed length {length}");
            }

            read += n;
        }
    }

    /// <summary>
    /// Writes <paramref name="buffers"/> after the first <paramref name="end"/> bytes of <paramref name="file"/>, which are
    /// what this appender appended (or reloaded) last.
    /// </summary>
    public void Append(SafeFileHandle file, long end, List<ReadOnlyMemory<byte>> buffers)
    {
        var window = Window;
        var position = _carried;
        var fileOffset = end - _carried;
        foreach (var buffer in buffers)
        {
            var source = buffer.Span;
            while (source.Length > 0)
            {
                var n = Math.Min(source.Length, Capacity - position);
                source[..n].CopyTo(window[position..]);
                source = source[n..];
                position += n;
                if (position == Capacity)
                {
                    RandomAccess.Write(file, window, fileOffset);
                    fileOffset += Capacity;
                    position = 0;
                }
            }
        }

        var keep = position % DirectWrites.Alignment;
        if (position > 0)
        {
            var padded = position - keep + (keep == 0 ? 0 : DirectWrites.Alignment);
            window[position..padded].Clear();
            RandomAccess.Write(file, window[..padded], fileOffset);
        }

        // The last block stays in the window for the next append to write again.
        window.Slice(position - keep, keep).CopyTo(window);
        _carried = keep;
    }
}

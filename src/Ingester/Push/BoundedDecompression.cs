using System.Runtime.InteropServices;

namespace LokiSharp.Ingester.Push;

/// <summary>
/// Inflates a compressed push body into one pooled buffer that never grows past the limit plus one byte, so a
/// decompression bomb costs at most the configured limit in memory before it is refused with Loki's 413.
/// </summary>
public static class BoundedDecompression
{
    /// <summary>
    /// Reads <paramref name="decompressor"/> to its end into a buffer from <see cref="PushBuffers.Pool"/> (the
    /// caller returns it there), reading at most <paramref name="maxDecompressedSize"/> + 1 bytes from it.
    /// </summary>
    /// <exception cref="PushRequestException">413 once the output passes the limit.</exception>
    public static byte[] ReadAll(Stream decompressor, int compressedLength, long maxDecompressedSize, out int length)
    {
        // One byte past the limit is enough to know the limit was passed; an array cannot be longer anyway.
        var capacity = (int)Math.Min(maxDecompressedSize + 1, Array.MaxLength);
        var buffer = PushBuffers.Pool.Rent((int)Math.Min(Math.Max(compressedLength * 4L, 4096), capacity));
        length = 0;
        try
        {
            while (true)
            {
                // The pool may hand out more than asked: reads never go past the capacity.
                var room = Math.Min(buffer.Length, capacity);
                if (length == room)
                {
                    if (room == capacity)
                    {
                        throw DecompressedTooLarge(length, maxDecompressedSize);
                    }

                    var bigger = PushBuffers.Pool.Rent((int)Math.Min(buffer.Length * 2L, capacity));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    PushBuffers.Pool.Return(buffer);
                    buffer = bigger;
                    continue;
                }

                var read = decompressor.Read(buffer, length, room - length);
                if (read == 0)
                {
                    return buffer;
                }

                length += read;
                if (length > maxDecompressedSize)
                {
                    throw DecompressedTooLarge(length, maxDecompressedSize);
                }
            }
        }
        catch
        {
            PushBuffers.Pool.Return(buffer);
            throw;
        }
    }

    /// <summary>A read-only stream over <paramref name="body"/>, without copying it when it is backed by an array.</summary>
    public static MemoryStream Source(ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);

    /// <summary>Loki's 413 for a body whose decompressed size passes the limit.</summary>
    public static PushRequestException DecompressedTooLarge(long size, long max) =>
        new(413, $"request body too large: decompressed message size too large than max ({size} vs {max})");
}

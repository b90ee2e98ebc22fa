using Microsoft.Win32.SafeHandles;

namespace LokiSharp.Storage.Reading;

/// <summary>Positional reads that fill their buffer: a single read may return fewer bytes than asked.</summary>
public static class FileReads
{
    /// <summary>
    /// Reads from <paramref name="offset"/> until <paramref name="destination"/> is full or the file ends; returns the
    /// bytes read, short only at the end of the file (callers decide what a short read means).
    /// </summary>
    public static int ReadFully(SafeFileHandle file, Span<byte> destination, long offset)
    {
        var read = 0;
        while (read < destination.Length)
        {
            var n = RandomAccess.Read(file, destination[read..], offset + read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return read;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;
using Microsoft.Win32.SafeHandles;

namespace LokiSharp.Storage.Store;

/// <summary>
/// Pack files: immutable files holding the chunks of one flush back to back after an 8-byte header, so a
/// flush of many small chunks costs one file instead of one per chunk. Reads go through cached handles.
/// </summary>
internal sealed class PackFiles : IDisposable
{
    public const uint Magic = 0x50534B4C; // "LKSP"
    public const int HeaderSize = 8;
    public const string Suffix = ".pack";

    private readonly ConcurrentDictionary<string, SafeFileHandle> _handles = new(StringComparer.Ordinal);

    public static string PathOf(string chunksDirectory, long packId) => Path.Combine(chunksDirectory, NameOf(packId));

    /// <summary>The file name of pack <paramref name="packId"/>: 16 hex digits and <see cref="Suffix"/>.</summary>
    public static string NameOf(long packId) =>
        packId.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + Suffix;

    /// <summary>Parses a pack file name back into its id.</summary>
    public static bool TryParseId(string fileName, out long packId)
    {
        packId = 0;
        return fileName.Length == 16 + Suffix.Length && fileName.EndsWith(Suffix, StringComparison.Ordinal) &&
               long.TryParse(fileName.AsSpan(0, 16), System.Globalization.NumberStyles.AllowHexSpecifier,
                   System.Globalization.CultureInfo.InvariantCulture, out packId);
    }

    /// <summary>Closes the cached handle of a pack about to be deleted, so its space is really freed.</summary>
    public void Forget(string path)
    {
        if (_handles.TryRemove(path, out var handle))
        {
            handle.Dispose();
        }
    }

    /// <summary>Writes the pack durably; returns the chunk offsets, or null if the id is taken.</summary>
    public static long[]? TryWrite(string path, IReadOnlyList<ReadOnlyMemory<byte>> chunks, Action<DurableStep>? hook)
    {
        var offsets = new long[chunks.Count];
        var created = DurableFile.TryCreate(path, stream =>
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
            header[4] = 1;
            header[5] = 1;
            stream.Write(header);
            long offset = HeaderSize;
            for (var i = 0; i < chunks.Count; i++)
            {
                offsets[i] = offset;
                stream.Write(chunks[i].Span);
                offset += chunks[i].Length;
            }
        }, hook);
        return created ? offsets : null;
    }

    /// <summary>A pack's bytes, as <see cref="TryWrite"/> stores them, for a store that puts whole objects.</summary>
    public static byte[] Encode(IReadOnlyList<ReadOnlyMemory<byte>> chunks, long[] offsets)
    {
        long size = HeaderSize;
        foreach (var chunk in chunks)
        {
            size += chunk.Length;
        }

        var content = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(content, Magic);
        content[4] = 1;
        content[5] = 1;
        long offset = HeaderSize;
        for (var i = 0; i < chunks.Count; i++)
        {
            offsets[i] = offset;
            chunks[i].Span.CopyTo(content.AsSpan((int)offset));
            offset += chunks[i].Length;
        }

        return content;
    }

    /// <summary>Reads one chunk into a rented buffer (return it to <see cref="ArrayPool{T}.Shared"/>).</summary>
    /// <exception cref="IOException">The pack is missing or unreadable.</exception>
    /// <exception cref="ChunkCorruptException">The pack is shorter than the index says.</exception>
    public byte[] Read(string chunksDirectory, in ChunkRef chunk)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(chunk.Length);
        try
        {
            ReadRange(chunksDirectory, chunk, 0, buffer.AsSpan(0, chunk.Length));
            return buffer;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Reads <c>destination.Length</c> bytes of one chunk from byte <paramref name="start"/> of it.</summary>
    /// <exception cref="IOException">The pack is missing or unreadable.</exception>
    /// <exception cref="ChunkCorruptException">The pack is shorter than the index says.</exception>
    public void ReadRange(string chunksDirectory, in ChunkRef chunk, int start, Span<byte> destination)
    {
        var path = PathOf(chunksDirectory, chunk.PackId);
        var handle = _handles.GetOrAdd(path, static p =>
            File.OpenHandle(p, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess));
        if (FileReads.ReadFully(handle, destination, chunk.Offset + start) < destination.Length)
        {
            throw new ChunkCorruptException(
                $"pack {path} ends before chunk bytes at offset {chunk.Offset + start} (+{destination.Length} bytes)");
        }
    }

    public void Dispose()
    {
        foreach (var handle in _handles.Values)
        {
            handle.Dispose();
        }

        _handles.Clear();
    }
}

using System.Buffers;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.Hashing;

namespace LokiSharp.Storage.Chunks;

/// <summary>
/// One block decompressed into pooled memory with its entries located, so readers can walk it forward or
/// backward and seek by time. Reuse an instance across blocks; dispose to return the buffers.
/// </summary>
public sealed class DecodedBlock : IDisposable
{
    private const int MaxRawBlockSize = 256 * 1024 * 1024;

    private byte[] _raw = [];
    private long[] _timestamps = [];
    private int[] _lineStarts = [];
    private int[] _lineLengths = [];
    private int[] _metaStarts = [];
    private int[] _metaLengths = [];

    /// <summary>Entries in the block.</summary>
    public int Count { get; private set; }

    /// <summary>The entry at <paramref name="index"/>.</summary>
    public LogEntry this[int index] => new(
        _timestamps[index],
        _raw.AsSpan(_lineStarts[index], _lineLengths[index]),
        new StructuredMetadata(_raw.AsSpan(_metaStarts[index], _metaLengths[index])));

    /// <summary>The timestamp of the entry at <paramref name="index"/>.</summary>
    public long TimestampAt(int index) => _timestamps[index];

    /// <summary>The line of the entry at <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> LineAt(int index) => _raw.AsSpan(_lineStarts[index], _lineLengths[index]);

    /// <summary>Index of the first entry with timestamp ≥ <paramref name="time"/> (Count when none).</summary>
    public int LowerBound(long time)
    {
        int lo = 0, hi = Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_timestamps[mid] < time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Checks, decompresses and indexes <paramref name="block"/> of <paramref name="chunk"/>.</summary>
    /// <exception cref="ChunkCorruptException">Checksum, decompression or entry structure failed.</exception>
    public void Decode(ReadOnlySpan<byte> chunk, ChunkEncoding encoding, in BlockInfo block)
    {
        Count = 0;
        if ((long)block.Offset + block.CompressedSize > chunk.Length)
        {
            throw new ChunkCorruptException("block lies beyond the end of the chunk");
        }

        // Every entry takes at least three raw bytes; the cap keeps a forged table from forcing huge rentals.
        if (block.RawSize > MaxRawBlockSize || block.EntryCount > block.RawSize / 3 + 1)
        {
            throw new ChunkCorruptException($"block at offset {block.Offset} declares implausible sizes");
        }

        var compressed = chunk.Slice(block.Offset, block.CompressedSize);
        if (Crc32C.Compute(compressed) != block.Crc)
        {
            throw new ChunkCorruptException($"block at offset {block.Offset} checksum mismatch");
        }

        Ensure(ref _raw, block.RawSize);
        try
        {
            BlockCodec.For(encoding).Decompress(compressed, _raw.AsSpan(0, block.RawSize));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Third-party decoders signal hostile input in assorted ways; all of them mean "this block is bad".
            throw new ChunkCorruptException($"block at offset {block.Offset} does not decompress: {e.Message}", e);
        }

        Index(_raw.AsSpan(0, block.RawSize), block);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Release(ref _raw);
        Release(ref _timestamps);
        Release(ref _lineStarts);
        Release(ref _lineLengths);
        Release(ref _metaStarts);
        Release(ref _metaLengths);
        Count = 0;
    }

    private void Index(ReadOnlySpan<byte> raw, in BlockInfo block)
    {
        var n = block.EntryCount;
        Ensure(ref _timestamps, n);
        Ensure(ref _lineStarts, n);
        Ensure(ref _lineLengths, n);
        Ensure(ref _metaStarts, n);
        Ensure(ref _metaLengths, n);
        var p = 0;
        var ts = block.MinTime;
        for (var i = 0; i < n; i++)
        {
            if (!Varint.TryRead(raw, ref p, out var delta) || !Varint.TryRead(raw, ref p, out var lineLength) ||
                lineLength > (ulong)(raw.Length - p))
            {
                throw Corrupt(block, i);
            }

            ts = i == 0 ? block.MinTime + (long)delta : ts + (long)delta;
            if (ts < block.MinTime || ts > block.MaxTime)
            {
                throw Corrupt(block, i);
            }

            _timestamps[i] = ts;
            _lineStarts[i] = p;
            _lineLengths[i] = (int)lineLength;
            p += (int)lineLength;
            var metaStart = p;
            if (!Varint.TryRead(raw, ref p, out var pairs) || pairs > (ulong)(raw.Length - p))
            {
                throw Corrupt(block, i);
            }

            for (var k = 0; k < 2 * (int)pairs; k++)
            {
                if (!Varint.TryRead(raw, ref p, out var length) || length > (ulong)(raw.Length - p))
                {
                    throw Corrupt(block, i);
                }

                p += (int)length;
            }

            _metaStarts[i] = metaStart;
            _metaLengths[i] = p - metaStart;
        }

        if (p != raw.Length)
        {
            throw new ChunkCorruptException($"block at offset {block.Offset} has {raw.Length - p} trailing bytes");
        }

        Count = n;
    }

    private static ChunkCorruptException Corrupt(in BlockInfo block, int entry) =>
        new($"block at offset {block.Offset}: entry {entry} is malformed");

    private static void Ensure<T>(ref T[] array, int length)
    {
        if (array.Length >= length)
        {
            return;
        }

        Release(ref array);
        array = ArrayPool<T>.Shared.Rent(Math.Max(length, 16));
    }

    private static void Release<T>(ref T[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<T>.Shared.Return(array);
        }

        array = [];
    }
}

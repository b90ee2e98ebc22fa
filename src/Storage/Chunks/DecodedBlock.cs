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
    private byte[] _lineBytes = [];

    // Where lines are: the decompressed payload (row blocks, plain columnar lines) or _lineBytes (rebuilt lines).
    private byte[] _lineSource = [];
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
        _lineSource.AsSpan(_lineStarts[index], _lineLengths[index]),
        new StructuredMetadata(_raw.AsSpan(_metaStarts[index], _metaLengths[index])));

    /// <summary>The timestamp of the entry at <paramref name="index"/>.</summary>
    public long TimestampAt(int index) => _timestamps[index];

    /// <summary>The line of the entry at <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> LineAt(int index) => _lineSource.AsSpan(_lineStarts[index], _lineLengths[index]);

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

        // The chunk header's version byte says how blocks lay out their entries.
        if (chunk[4] >= ChunkFormat.ColumnarVersion)
        {
            IndexColumnar(_raw.AsSpan(0, block.RawSize), block);
        }
        else
        {
            _lineSource = _raw;
            Index(_raw.AsSpan(0, block.RawSize), block);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Release(ref _raw);
        Release(ref _lineBytes);
        _lineSource = [];
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

    private void IndexColumnar(ReadOnlySpan<byte> raw, in BlockInfo block)
    {
        var n = block.EntryCount;
        Ensure(ref _timestamps, n);
        Ensure(ref _lineStarts, n);
        Ensure(ref _lineLengths, n);
        Ensure(ref _metaStarts, n);
        Ensure(ref _metaLengths, n);
        var p = 0;
        if (!Varint.TryRead(raw, ref p, out var divisor) || divisor == 0 || p >= raw.Length)
        {
            throw Corrupt(block, 0);
        }

        var width = raw[p++];
        if (width > 8 || (long)width * n > raw.Length - p)
        {
            throw Corrupt(block, 0);
        }

        var ts = block.MinTime;
        for (var i = 0; i < n; i++)
        {
            ulong delta = 0;
            for (var b = 0; b < width; b++)
            {
                delta |= (ulong)raw[p + (b * n) + i] << (8 * b);
            }

            // Checked against the block's range before multiplying, so a forged delta cannot overflow.
            if (delta > (ulong)(block.MaxTime - ts) / divisor)
            {
                throw Corrupt(block, i);
            }

            ts += (long)(delta * divisor);
            _timestamps[i] = ts;
        }

        p += width * n;
        for (var i = 0; i < n; i++)
        {
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

        if (p >= raw.Length)
        {
            throw Corrupt(block, 0);
        }

        var mode = raw[p++];
        if (mode == ColumnarBlock.LinesPlain)
        {
            IndexPlainLines(raw, p, block);
        }
        else if (mode == ColumnarBlock.LinesTokenized)
        {
            RebuildLines(raw, p, block);
        }
        else
        {
            throw new ChunkCorruptException($"block at offset {block.Offset} has unknown line mode {mode}");
        }

        Count = n;
    }

    private void IndexPlainLines(ReadOnlySpan<byte> raw, int p, in BlockInfo block)
    {
        var n = block.EntryCount;
        long total = 0;
        for (var i = 0; i < n; i++)
        {
            if (!Varint.TryRead(raw, ref p, out var length) || length > (ulong)raw.Length)
            {
                throw Corrupt(block, i);
            }

            _lineLengths[i] = (int)length;
            total += (long)length;
        }

        if (total != raw.Length - p)
        {
            throw new ChunkCorruptException($"block at offset {block.Offset}: lines do not fill the block");
        }

        for (var i = 0; i < n; i++)
        {
            _lineStarts[i] = p;
            p += _lineLengths[i];
        }

        _lineSource = _raw;
    }

    // Templates (each ended by the terminator, variables replaced by the marker), then the variables column
    // (each ended by the terminator): lines are rebuilt into _lineBytes, never longer than the payload.
    private void RebuildLines(ReadOnlySpan<byte> raw, int p, in BlockInfo block)
    {
        var n = block.EntryCount;
        if (raw.Length - p < 2)
        {
            throw Corrupt(block, 0);
        }

        var terminator = raw[p];
        var marker = raw[p + 1];
        p += 2;
        if (!Varint.TryRead(raw, ref p, out var templatesLength) || templatesLength > (ulong)(raw.Length - p))
        {
            throw Corrupt(block, 0);
        }

        var templates = raw.Slice(p, (int)templatesLength);
        var variables = raw[(p + (int)templatesLength)..];
        Ensure(ref _lineBytes, raw.Length);
        var output = _lineBytes.AsSpan();
        var q = 0;
        for (var i = 0; i < n; i++)
        {
            var end = templates.IndexOf(terminator);
            if (end < 0)
            {
                throw Corrupt(block, i);
            }

            var template = templates[..end];
            templates = templates[(end + 1)..];
            var start = q;
            while (true)
            {
                var k = template.IndexOf(marker);
                if (k < 0)
                {
                    template.CopyTo(output[q..]);
                    q += template.Length;
                    break;
                }

                template[..k].CopyTo(output[q..]);
                q += k;
                template = template[(k + 1)..];
                var v = variables.IndexOf(terminator);
                if (v < 0)
                {
                    throw Corrupt(block, i);
                }

                variables[..v].CopyTo(output[q..]);
                q += v;
                variables = variables[(v + 1)..];
            }

            _lineStarts[i] = start;
            _lineLengths[i] = q - start;
        }

        if (!templates.IsEmpty || !variables.IsEmpty)
        {
            throw new ChunkCorruptException($"block at offset {block.Offset} has trailing bytes");
        }

        _lineSource = _lineBytes;
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

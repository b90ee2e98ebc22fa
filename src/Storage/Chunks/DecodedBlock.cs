using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
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

    // Tokenized lines are rebuilt on first access (readers that only need timestamps never pay for it): lines
    // below _rebuilt are in _lineBytes; the cursors say where the next line's template, variables and output are.
    private int _rebuilt = int.MaxValue;
    private int _templateCursor;
    private int _variableCursor;
    private int _outputCursor;
    private byte _terminator;
    private byte _marker;
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
        LineAt(index),
        new StructuredMetadata(_raw.AsSpan(_metaStarts[index], _metaLengths[index])));

    /// <summary>
    /// Whether the entry at <paramref name="index"/> carries the same metadata bytes as the one before it (known from
    /// indexing; false when not known, e.g. in row blocks), so a reader can reuse what it made of them.
    /// </summary>
    /// <remarks>Every entry's metadata takes a byte at least, so only a repeat shares its start with the entry before.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MetadataRepeatsPrevious(int index) => (uint)(index - 1) < (uint)(Count - 1) && _metaStarts[index] == _metaStarts[index - 1];

    /// <summary>The timestamp of the entry at <paramref name="index"/>.</summary>
    public long TimestampAt(int index) => _timestamps[index];

    /// <summary>The line of the entry at <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> LineAt(int index)
    {
        if (index >= _rebuilt && (uint)index < (uint)Count)
        {
            RebuildThrough(index);
        }

        return _lineSource.AsSpan(_lineStarts[index], _lineLengths[index]);
    }

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
            _rebuilt = int.MaxValue;
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

    private void EnsureColumns(int n)
    {
        Ensure(ref _timestamps, n);
        Ensure(ref _lineStarts, n);
        Ensure(ref _lineLengths, n);
        Ensure(ref _metaStarts, n);
        Ensure(ref _metaLengths, n);
    }

    private void Index(ReadOnlySpan<byte> raw, in BlockInfo block)
    {
        var n = block.EntryCount;
        EnsureColumns(n);
        var p = 0;
        var ts = block.MinTime;
        for (var i = 0; i < n; i++)
        {
            if (!Varint.TryRead(raw, ref p, out var delta) || !Varint.TryRead(raw, ref p, out var lineLength) ||
                lineLength > (ulong)(raw.Length - p))
            {
                throw Corrupt(block, i);
            }

            // Writers keep a block's entries in order, so a delta is never negative: one that would wrap (a forged block
            // with a valid CRC) or pass the block's maximum fails here, as in columnar blocks. Timestamps then stay in
            // [min, max] (the layout refuses min > max), the order runs of the block are handed out on.
            if (delta > (ulong)(block.MaxTime - ts))
            {
                throw Corrupt(block, i);
            }

            ts += (long)delta;

            _timestamps[i] = ts;
            _lineStarts[i] = p;
            _lineLengths[i] = (int)lineLength;
            p += (int)lineLength;
            _metaStarts[i] = p;
            p = SkipMetadata(raw, p, block, i);
            _metaLengths[i] = p - _metaStarts[i];
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
        EnsureColumns(n);
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
        // When no delta of this width times the divisor can overflow (the usual case), the product is compared with
        // what is left of the block's range directly, sparing a 64-bit division per entry.
        var productFits = (8 * width) + (64 - BitOperations.LeadingZeroCount(divisor)) <= 64;
        for (var i = 0; i < n; i++)
        {
            ulong delta = 0;
            for (var b = 0; b < width; b++)
            {
                delta |= (ulong)raw[p + (b * n) + i] << (8 * b);
            }

            // Checked against the block's range before multiplying, so a forged delta cannot overflow.
            if (productFits ? delta * divisor > (ulong)(block.MaxTime - ts) : delta > (ulong)(block.MaxTime - ts) / divisor)
            {
                throw Corrupt(block, i);
            }

            ts += (long)(delta * divisor);
            _timestamps[i] = ts;
        }

        p += width * n;
        for (var i = 0; i < n; i++)
        {
            var start = p;
            var last = i > 0 ? _metaLengths[i - 1] : 0;
            if (p < raw.Length && raw[p] == 0)
            {
                p++;
            }
            else if (last > 1 && last <= raw.Length - p && raw.Slice(p, last).SequenceEqual(raw.Slice(_metaStarts[i - 1], last)))
            {
                // The bytes of the previous entry's metadata again (a stream's detected_level): they parse the same way, and
                // the entry is pointed at the first copy, so readers see the repeat (MetadataRepeatsPrevious) without comparing.
                p += last;
                _metaStarts[i] = _metaStarts[i - 1];
                _metaLengths[i] = last;
                continue;
            }
            else
            {
                p = SkipMetadata(raw, p, block, i);
            }

            _metaStarts[i] = start;
            _metaLengths[i] = p - start;
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
        _rebuilt = int.MaxValue;
    }

    // Templates (each ended by the terminator, variables replaced by the marker), then the variables column
    // (each ended by the terminator). Checked here with whole-span counts, which is enough for the rebuild to
    // never fail: n templates each ending at a terminator, as many variables as markers, each ending at one.
    // Rebuilt lines are never longer than the payload.
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
        if (terminator == marker || !Varint.TryRead(raw, ref p, out var templatesLength) ||
            templatesLength > (ulong)(raw.Length - p))
        {
            throw Corrupt(block, 0);
        }

        var templates = raw.Slice(p, (int)templatesLength);
        var variables = raw[(p + (int)templatesLength)..];
        var markers = templates.Count(marker);
        if (templates.Count(terminator) != n || (n > 0 && templates[^1] != terminator) ||
            variables.Count(terminator) != markers || (markers > 0 ? variables[^1] != terminator : !variables.IsEmpty))
        {
            throw new ChunkCorruptException($"block at offset {block.Offset}: line templates and variables do not agree");
        }

        Ensure(ref _lineBytes, raw.Length);
        _lineSource = _lineBytes;
        _terminator = terminator;
        _marker = marker;
        _templateCursor = p;
        _variableCursor = p + (int)templatesLength;
        _outputCursor = 0;
        _rebuilt = 0;
    }

    private void RebuildThrough(int index)
    {
        var raw = _raw.AsSpan();
        var output = _lineBytes.AsSpan();
        int q = _outputCursor, t = _templateCursor, v = _variableCursor;
        byte terminator = _terminator, marker = _marker;
        for (var i = _rebuilt; i <= index; i++)
        {
            var start = q;
            while (true)
            {
                // One search per template segment: up to the next variable or the end of the line.
                var k = raw[t..].IndexOfAny(marker, terminator);
                raw.Slice(t, k).CopyTo(output[q..]);
                q += k;
                t += k + 1;
                if (raw[t - 1] == terminator)
                {
                    break;
                }

                // Variables are short: a plain loop finds the terminator sooner than a vector search starts.
                byte b;
                while ((b = raw[v++]) != terminator)
                {
                    output[q++] = b;
                }
            }

            _lineStarts[i] = start;
            _lineLengths[i] = q - start;
        }

        _outputCursor = q;
        _templateCursor = t;
        _variableCursor = v;
        _rebuilt = index + 1;
    }

    // An entry's structured metadata: a pair count, then each name and value length-prefixed; returns where it ends.
    private static int SkipMetadata(ReadOnlySpan<byte> raw, int p, in BlockInfo block, int entry)
    {
        if (!Varint.TryRead(raw, ref p, out var pairs) || pairs > (ulong)(raw.Length - p))
        {
            throw Corrupt(block, entry);
        }

        for (var k = 0; k < 2 * (int)pairs; k++)
        {
            if (!Varint.TryRead(raw, ref p, out var length) || length > (ulong)(raw.Length - p))
            {
                throw Corrupt(block, entry);
            }

            p += (int)length;
        }

        return p;
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

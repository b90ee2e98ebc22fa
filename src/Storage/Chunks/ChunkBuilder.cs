using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.ContentIndex;
using LokiSharp.Storage.Hashing;

namespace LokiSharp.Storage.Chunks;

/// <summary>
/// Builds one chunk of one stream: entries are appended in timestamp order, cut into blocks of about
/// <see cref="TargetBlockSize"/> raw bytes which are compressed as they fill, and <see cref="Finish"/> writes
/// header, blocks, block table, content filters and footer. Reusable after <see cref="Finish"/>; not thread-safe.
/// </summary>
public sealed class ChunkBuilder : IDisposable
{
    private readonly BlockCodec _codec;
    private readonly double _filterRatio;
    private readonly PooledBufferWriter _raw = new(64 * 1024);
    private readonly PooledBufferWriter _lines = new(64 * 1024);
    private readonly PooledBufferWriter _metadata = new(1024);
    private readonly List<long> _timestamps = [];
    private readonly List<int> _lineLengths = [];
    private readonly ColumnarBlock _columns = new();
    private readonly PooledBufferWriter _payload = new(64 * 1024);
    private readonly PooledBufferWriter _filters = new(1024);
    private readonly List<BlockInfo> _blocks = [];
    // The id filter's budget relative to the content filter's (0.07 of the compressed block by default): ids are
    // random, so their grams take more room; a block of JSON lines with a 16-digit id each needs about 6%.
    private const double IdFilterShare = 7.0 / 3;

    private const int MinIdFilterBytes = 64;

    // Filter budgets are shares of a block's compressed size, but codecs picked for size compress a block of the same lines
    // to about half what snappy does (zstd: 0.10-0.11 of the raw block on the reference logs, snappy 0.22): their id
    // filters, folded to half the bits, let about ten times as many blocks through an absent 16-digit id. So under those
    // codecs an id budget is at least that of a block compressed to this share of its raw size. Snappy's own share would
    // give the reference logs' id-heavy blocks twice the id filter (as selective as snappy's) but take the zstd store from
    // 0.148 to 0.151 of its raw size, over its 0.15 bar; this share gives the blocks folded to one bit per gram or less
    // their second bit: 2.6 times fewer passes for 0.15% more bytes. Text filters keep their budget: at 4 to 8 bits per gram
    // they already pass few blocks, and doubling them took 0.8% more bytes.
    private const double SizePickedIdBudgetFloor = 0.18;

    // The smallest filter (NGramFilter.MinBits) as a text budget floor: small blocks (a flushed tail of 60 lines, a quiet
    // stream's chunk cut by idleness) compress under the 64 bytes a budget of 3% needs, and would pass every needle.
    private const int MinTextFilterBytes = NGramFilter.MinBits / 8;

    private readonly NGramFilterBuilder? _filter;
    private readonly bool _tokenize;
    private readonly bool _pickedForSize;

    private long _blockMin;
    private long _blockMax;
    private int _blockEntries;
    private long _lastTime = long.MinValue;
    private long _firstTime;
    private int _entries;
    private long _uncompressed;

    /// <summary>Creates a builder.</summary>
    /// <param name="encoding">Block compression.</param>
    /// <param name="targetBlockSize">Raw bytes after which a block is cut.</param>
    /// <param name="contentFilterRatio">
    /// Content filter budget as a share of each compressed block (0.03 = 3%); 0 disables content filters.
    /// </param>
    public ChunkBuilder(ChunkEncoding encoding, int targetBlockSize = ChunkFormat.DefaultTargetBlockSize,
        double contentFilterRatio = 0.03)
        : this(encoding, targetBlockSize, contentFilterRatio,

            // Codecs picked for size get tokenized lines; those picked for speed (and none) keep lines
            // contiguous, so their readers never rebuild a line.
            tokenizeLines: IsPickedForSize(encoding))
    {
    }

    /// <summary>Whether users pick <paramref name="encoding"/> for small chunks rather than for speed (zstd, gzip, flate).</summary>
    public static bool IsPickedForSize(ChunkEncoding encoding) => encoding is ChunkEncoding.Zstd or ChunkEncoding.Gzip or ChunkEncoding.Flate;

    /// <summary>Creates a builder choosing whether lines are tokenized (tests use it with uncompressed blocks).</summary>
    internal ChunkBuilder(ChunkEncoding encoding, int targetBlockSize, double contentFilterRatio, bool tokenizeLines)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetBlockSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(contentFilterRatio);
        _codec = BlockCodec.For(encoding);
        _tokenize = tokenizeLines;
        _pickedForSize = IsPickedForSize(encoding);
        TargetBlockSize = targetBlockSize;
        _filterRatio = contentFilterRatio;
        if (contentFilterRatio > 0)
        {
            _filter = NewFilterBuilder(targetBlockSize, contentFilterRatio);
        }
    }

    /// <summary>
    /// A filter builder whose scratches are as large as the filters of a block of twice the target size that did not
    /// compress at all: a block is cut once its lines pass the target, its timestamp and length columns can take its raw
    /// bytes to about twice that (short lines), and short random lines barely compress, under any codec. A larger block
    /// (a long last line) may get smaller filters than its budget, never wrong ones.
    /// </summary>
    internal static NGramFilterBuilder NewFilterBuilder(int targetBlockSize, double contentFilterRatio)
    {
        var largestBlock = 2L * targetBlockSize;
        return new NGramFilterBuilder(NGramFilterBuilder.BitsForBudget((long)(largestBlock * contentFilterRatio)),
            NGramFilterBuilder.BitsForBudget(Math.Max(MinIdFilterBytes, (long)(largestBlock * contentFilterRatio * IdFilterShare))));
    }

    /// <summary>Block compression.</summary>
    public ChunkEncoding Encoding => _codec.Encoding;

    /// <summary>Raw bytes after which a block is cut.</summary>
    public int TargetBlockSize { get; }

    /// <summary>Entries appended since the last <see cref="Finish"/>.</summary>
    public int EntryCount => _entries;

    /// <summary>Line plus metadata bytes appended since the last <see cref="Finish"/>.</summary>
    public long UncompressedBytes => _uncompressed;

    /// <summary>Compressed bytes of cut blocks plus raw bytes of the open block: the chunk's size so far.</summary>
    public long ApproximateSize => _payload.WrittenCount + _lines.WrittenCount + _metadata.WrittenCount;

    /// <summary>Appends an entry. Timestamps must not decrease.</summary>
    /// <exception cref="ArgumentException">The timestamp is older than the previous entry's.</exception>
    public void Append(long timestamp, ReadOnlySpan<byte> line, ReadOnlySpan<LabelPair> metadata = default)
    {
        BeginEntry(timestamp, line);
        Varint.Write(_metadata, (ulong)metadata.Length);
        long metaBytes = 0;
        foreach (var pair in metadata)
        {
            metaBytes += WriteString(pair.Name) + WriteString(pair.Value);
        }

        EndEntry(timestamp, line, metaBytes);
    }

    /// <summary>
    /// Appends an entry whose metadata is already encoded (read from another chunk or an in-memory head), copying
    /// the bytes as they are. Timestamps must not decrease.
    /// </summary>
    public void Append(long timestamp, ReadOnlySpan<byte> line, StructuredMetadata metadata)
    {
        BeginEntry(timestamp, line);
        var encoded = metadata.Encoded;
        if (encoded.IsEmpty)
        {
            Varint.Write(_metadata, 0);
        }
        else
        {
            _metadata.Write(encoded);
        }

        EndEntry(timestamp, line, Math.Max(0, encoded.Length - 1));
    }

    private void BeginEntry(long timestamp, ReadOnlySpan<byte> line)
    {
        if (timestamp < _lastTime)
        {
            throw new ArgumentException(
                $"entry timestamp {timestamp} is older than the previous entry's {_lastTime}; sort entries before building a chunk",
                nameof(timestamp));
        }

        if (_blockEntries == 0)
        {
            _blockMin = timestamp;
            _blockMax = timestamp;
        }

        if (_entries == 0)
        {
            _firstTime = timestamp;
        }

        _timestamps.Add(timestamp);
        _lineLengths.Add(line.Length);
        _lines.Write(line);
    }

    private void EndEntry(long timestamp, ReadOnlySpan<byte> line, long metaBytes)
    {
        if (_filter is not null)
        {
            // The block's previous line (the filter holds the block's lines so far) is right before this one in _lines.
            if (_blockEntries > 0)
            {
                var lines = _lines.WrittenSpan;
                var previousLength = _lineLengths[^2];
                _filter.AddLine(line, lines.Slice(lines.Length - line.Length - previousLength, previousLength));
            }
            else
            {
                _filter.AddLine(line);
            }
        }

        _blockMax = timestamp;
        _lastTime = timestamp;
        _blockEntries++;
        _entries++;
        _uncompressed += line.Length + metaBytes;
        if (_lines.WrittenCount + _metadata.WrittenCount >= TargetBlockSize)
        {
            CutBlock();
        }
    }

    /// <summary>Appends an entry whose line is a string (encoded as UTF-8).</summary>
    public void Append(long timestamp, string line, ReadOnlySpan<LabelPair> metadata = default)
    {
        var max = System.Text.Encoding.UTF8.GetMaxByteCount(line.Length);
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var n = System.Text.Encoding.UTF8.GetBytes(line, rented);
            Append(timestamp, rented.AsSpan(0, n), metadata);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Writes the chunk to <paramref name="output"/> and resets the builder.</summary>
    public ChunkSummary Finish(IBufferWriter<byte> output)
    {
        if (_blockEntries > 0)
        {
            CutBlock();
        }

        var header = output.GetSpan(ChunkFormat.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header, ChunkFormat.HeaderMagic);
        header[4] = ChunkFormat.Version;
        header[5] = ChunkFormat.MinCompatibleVersion;
        header[6] = (byte)_codec.Encoding;
        header[7] = _filter is null ? (byte)0 : (byte)(ChunkFormat.FlagContentFilters | ChunkFormat.FlagIdFilters);
        output.Advance(ChunkFormat.HeaderSize);
        output.Write(_payload.WrittenSpan);

        var tableOffset = ChunkFormat.HeaderSize + _payload.WrittenCount;
        var filtersOffset = tableOffset + (_blocks.Count * ChunkFormat.BlockInfoSize);
        var sectionLength = filtersOffset - tableOffset + _filters.WrittenCount;
        var section = output.GetSpan(sectionLength);
        for (var i = 0; i < _blocks.Count; i++)
        {
            var b = _blocks[i];
            var row = section[(i * ChunkFormat.BlockInfoSize)..];
            BinaryPrimitives.WriteInt64LittleEndian(row, b.MinTime);
            BinaryPrimitives.WriteInt64LittleEndian(row[8..], b.MaxTime);
            BinaryPrimitives.WriteInt32LittleEndian(row[16..], b.Offset + ChunkFormat.HeaderSize);
            BinaryPrimitives.WriteInt32LittleEndian(row[20..], b.CompressedSize);
            BinaryPrimitives.WriteInt32LittleEndian(row[24..], b.RawSize);
            BinaryPrimitives.WriteInt32LittleEndian(row[28..], b.EntryCount);
            BinaryPrimitives.WriteUInt32LittleEndian(row[32..], b.Crc);
            var anyFilter = b.FilterSize + b.IdFilterSize != 0;
            BinaryPrimitives.WriteInt32LittleEndian(row[36..], anyFilter ? b.FilterOffset + filtersOffset : 0);
            BinaryPrimitives.WriteInt32LittleEndian(row[40..], b.FilterSize);
            BinaryPrimitives.WriteInt32LittleEndian(row[44..], b.IdFilterSize);
        }

        _filters.WrittenSpan.CopyTo(section[(filtersOffset - tableOffset)..]);
        var sectionCrc = Crc32C.Compute(section[..sectionLength]);
        output.Advance(sectionLength);

        var footer = output.GetSpan(ChunkFormat.FooterSize);
        BinaryPrimitives.WriteInt32LittleEndian(footer, tableOffset);
        BinaryPrimitives.WriteInt32LittleEndian(footer[4..], _blocks.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[8..], sectionCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[12..], ChunkFormat.FooterMagic);
        output.Advance(ChunkFormat.FooterSize);

        var summary = new ChunkSummary(
            _entries == 0 ? 0 : _firstTime,
            _entries == 0 ? 0 : _lastTime,
            _entries,
            _uncompressed,
            filtersOffset + _filters.WrittenCount + ChunkFormat.FooterSize,
            _blocks.Count);
        Reset();
        return summary;
    }

    /// <summary>Discards everything appended.</summary>
    public void Reset()
    {
        ClearBlock();
        _payload.Clear();
        _filters.Clear();
        _blocks.Clear();
        _entries = 0;
        _uncompressed = 0;
        _lastTime = long.MinValue;
        _filter?.Clear();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _raw.Dispose();
        _lines.Dispose();
        _metadata.Dispose();
        _columns.Dispose();
        _payload.Dispose();
        _filters.Dispose();
        _filter?.Dispose();
    }

    private int WriteString(string value)
    {
        var max = System.Text.Encoding.UTF8.GetMaxByteCount(value.Length);
        var span = _metadata.GetSpan(max + Varint.MaxLength);

        // Write the bytes after a maximal varint gap, then move them next to the real varint.
        var n = System.Text.Encoding.UTF8.GetBytes(value, span[Varint.MaxLength..]);
        var lengthBytes = Varint.Write(span, (ulong)n);
        if (lengthBytes != Varint.MaxLength)
        {
            span.Slice(Varint.MaxLength, n).CopyTo(span[lengthBytes..]);
        }

        _metadata.Advance(lengthBytes + n);
        return n;
    }

    private void CutBlock()
    {
        _raw.Clear();
        _columns.Write(_raw, CollectionsMarshal.AsSpan(_timestamps), _metadata.WrittenSpan, _lines.WrittenSpan,
            CollectionsMarshal.AsSpan(_lineLengths), _tokenize);
        var raw = _raw.WrittenSpan;
        var offset = _payload.WrittenCount;
        var compressedSize = _codec.Compress(raw, _payload);
        var crc = Crc32C.Compute(_payload.WrittenSpan.Slice(offset, compressedSize));
        var filterOffset = _filters.WrittenCount;
        var (textBudget, idBudget) = FilterBudgets(compressedSize, raw.Length);
        var filterSize = _filter?.WriteAndClear(_filters, textBudget) ?? 0;
        var idFilterSize = _filter?.WriteIdsAndClear(_filters, idBudget) ?? 0;
        _blocks.Add(new BlockInfo(_blockMin, _blockMax, offset, compressedSize, raw.Length, _blockEntries, crc,
            filterOffset, filterSize, idFilterSize));
        ClearBlock();
    }

    /// <summary>
    /// The text and id filter budgets, in bytes, of a block of <paramref name="rawSize"/> bytes compressed to
    /// <paramref name="compressedSize"/>: shares of its compressed size, at least the smallest filter, and for ids under
    /// codecs picked for size at least the share of the floor above.
    /// </summary>
    private (int Text, int Ids) FilterBudgets(int compressedSize, int rawSize)
    {
        var text = Math.Max(MinTextFilterBytes, (int)(compressedSize * _filterRatio));
        var idBasis = _pickedForSize ? Math.Max(compressedSize, rawSize * SizePickedIdBudgetFloor) : compressedSize;

        // Ids get at least the smallest filter, so that a small block without ids (a flushed tail) still tells so.
        var ids = Math.Max(MinIdFilterBytes, (int)(idBasis * _filterRatio * IdFilterShare));
        return (text, ids);
    }

    private void ClearBlock()
    {
        _raw.Clear();
        _lines.Clear();
        _metadata.Clear();
        _timestamps.Clear();
        _lineLengths.Clear();
        _blockEntries = 0;
    }
}


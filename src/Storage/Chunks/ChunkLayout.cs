using System.Buffers.Binary;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.Hashing;

namespace LokiSharp.Storage.Chunks;

/// <summary>The parsed header, block table and filter locations of one chunk, validated against its checksum.</summary>
public sealed class ChunkLayout
{
    private ChunkLayout(byte version, ChunkEncoding encoding, byte flags, BlockInfo[] blocks)
    {
        Version = version;
        Encoding = encoding;
        Flags = flags;
        Blocks = blocks;
    }

    /// <summary>Format version the chunk was written with.</summary>
    public byte Version { get; }

    /// <summary>Block compression.</summary>
    public ChunkEncoding Encoding { get; }

    /// <summary>Header flags (<see cref="ChunkFormat.FlagContentFilters"/>).</summary>
    public byte Flags { get; }

    /// <summary>Blocks in timestamp order.</summary>
    public IReadOnlyList<BlockInfo> Blocks { get; }

    /// <summary>Smallest timestamp in the chunk, or 0 when empty.</summary>
    public long MinTime => Blocks.Count == 0 ? 0 : Blocks[0].MinTime;

    /// <summary>Largest timestamp in the chunk, or 0 when empty.</summary>
    public long MaxTime => Blocks.Count == 0 ? 0 : Blocks[^1].MaxTime;

    /// <summary>Parses and checks a chunk's envelope (not its block payloads, which are checked when decoded).</summary>
    /// <exception cref="ChunkCorruptException">Truncated, foreign, unsupported or checksum-failing chunk.</exception>
    public static ChunkLayout Parse(ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length < ChunkFormat.HeaderSize + ChunkFormat.FooterSize)
        {
            throw new ChunkCorruptException($"chunk too short: {chunk.Length} bytes");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(chunk) != ChunkFormat.HeaderMagic)
        {
            throw new ChunkCorruptException("chunk header magic mismatch");
        }

        var version = chunk[4];
        var minCompatible = chunk[5];
        if (minCompatible > ChunkFormat.Version)
        {
            throw new ChunkCorruptException(
                $"chunk format version {version} needs a reader of at least version {minCompatible}; this reader is version {ChunkFormat.Version}");
        }

        if (chunk[6] >= ChunkEncodings.All.Count)
        {
            throw new ChunkCorruptException($"unknown chunk encoding {chunk[6]}");
        }

        var encoding = (ChunkEncoding)chunk[6];
        var flags = chunk[7];
        var footer = chunk[^ChunkFormat.FooterSize..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(footer[12..]) != ChunkFormat.FooterMagic)
        {
            throw new ChunkCorruptException("chunk footer magic mismatch (truncated chunk?)");
        }

        var tableOffset = BinaryPrimitives.ReadInt32LittleEndian(footer);
        var blockCount = BinaryPrimitives.ReadInt32LittleEndian(footer[4..]);
        var footerStart = chunk.Length - ChunkFormat.FooterSize;
        if (tableOffset < ChunkFormat.HeaderSize || blockCount < 0 ||
            (long)tableOffset + ((long)blockCount * ChunkFormat.BlockInfoSize) > footerStart)
        {
            throw new ChunkCorruptException("chunk block table out of bounds");
        }

        if (Crc32C.Compute(chunk[tableOffset..footerStart]) != BinaryPrimitives.ReadUInt32LittleEndian(footer[8..]))
        {
            throw new ChunkCorruptException("chunk block table checksum mismatch");
        }

        var filtersStart = tableOffset + (blockCount * ChunkFormat.BlockInfoSize);
        var blocks = new BlockInfo[blockCount];
        for (var i = 0; i < blockCount; i++)
        {
            var row = chunk[(tableOffset + (i * ChunkFormat.BlockInfoSize))..];
            var block = new BlockInfo(
                BinaryPrimitives.ReadInt64LittleEndian(row),
                BinaryPrimitives.ReadInt64LittleEndian(row[8..]),
                BinaryPrimitives.ReadInt32LittleEndian(row[16..]),
                BinaryPrimitives.ReadInt32LittleEndian(row[20..]),
                BinaryPrimitives.ReadInt32LittleEndian(row[24..]),
                BinaryPrimitives.ReadInt32LittleEndian(row[28..]),
                BinaryPrimitives.ReadUInt32LittleEndian(row[32..]),
                BinaryPrimitives.ReadInt32LittleEndian(row[36..]),
                BinaryPrimitives.ReadInt32LittleEndian(row[40..]),
                BinaryPrimitives.ReadInt32LittleEndian(row[44..]));
            if (block.Offset < ChunkFormat.HeaderSize || block.CompressedSize < 0 ||
                (long)block.Offset + block.CompressedSize > tableOffset || block.RawSize < 0 ||
                block.EntryCount < 0 || block.MinTime > block.MaxTime ||
                !FiltersFit(block.FilterOffset, block.FilterSize, block.IdFilterSize, filtersStart, footerStart))
            {
                throw new ChunkCorruptException($"chunk block {i} descriptor is invalid");
            }

            blocks[i] = block;
        }

        return new ChunkLayout(version, encoding, flags, blocks);
    }

    /// <summary>
    /// Whether a block row's content and id filters, laid end to end from <paramref name="filterOffset"/>, have the
    /// power-of-two sizes the writer gives them (or none) and lie within <c>[filtersStart, end)</c>. Readers that judge
    /// a chunk from its tail alone use it too, so that a row the full read rejects never rules its chunk out.
    /// </summary>
    public static bool FiltersFit(int filterOffset, int filterSize, int idSize, long filtersStart, long end) =>
        filterSize >= 0 && idSize >= 0 && (filterSize & (filterSize - 1)) == 0 && (idSize & (idSize - 1)) == 0 &&
        ((long)filterSize + idSize == 0 || (filterOffset >= filtersStart && (long)filterOffset + filterSize + idSize <= end));

    /// <summary>The content filter bytes of a block within the chunk (empty when it has none).</summary>
    public static ReadOnlySpan<byte> FilterOf(ReadOnlySpan<byte> chunk, in BlockInfo block) =>
        block.FilterSize == 0 ? default : chunk.Slice(block.FilterOffset, block.FilterSize);

    /// <summary>The id filter bytes of a block within the chunk (empty when it has none).</summary>
    public static ReadOnlySpan<byte> IdFilterOf(ReadOnlySpan<byte> chunk, in BlockInfo block) =>
        block.IdFilterSize == 0 ? default : chunk.Slice(block.FilterOffset + block.FilterSize, block.IdFilterSize);
}

namespace LokiSharp.Storage.Chunks;

/// <summary>Constants of the chunk file layout; docs/formats/chunk.md is the normative description.</summary>
public static class ChunkFormat
{
    /// <summary>"LKSC" little-endian: the first four bytes of every chunk.</summary>
    public const uint HeaderMagic = 0x43534B4C;

    /// <summary>"LKSE" little-endian: the last four bytes of every chunk.</summary>
    public const uint FooterMagic = 0x45534B4C;

    /// <summary>The version this code writes.</summary>
    public const byte Version = 2;

    /// <summary>The oldest reader version able to read what this code writes.</summary>
    public const byte MinCompatibleVersion = 2;

    /// <summary>First version whose blocks use the columnar payload; older chunks hold entries row by row.</summary>
    public const byte ColumnarVersion = 2;

    /// <summary>Header: magic, version, min-compatible version, encoding, flags.</summary>
    public const int HeaderSize = 8;

    /// <summary>One block table row.</summary>
    public const int BlockInfoSize = 48;

    /// <summary>Footer: table offset, block count, table CRC, magic.</summary>
    public const int FooterSize = 16;

    /// <summary>Loki's default target block size (raw bytes).</summary>
    public const int DefaultTargetBlockSize = 256 * 1024;

    /// <summary>Header flag: blocks carry content (n-gram) filters.</summary>
    public const byte FlagContentFilters = 1;

    /// <summary>Header flag: blocks may carry id filters (block table row offset 44, after the content filter).</summary>
    public const byte FlagIdFilters = 2;
}

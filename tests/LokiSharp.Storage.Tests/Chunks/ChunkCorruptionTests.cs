using System.Buffers;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;

namespace LokiSharp.Storage.Tests.Chunks;

public sealed class ChunkCorruptionTests
{
    public static TheoryData<ChunkEncoding> Encodings() => ChunkRoundTripTests.Encodings();

    [Theory]
    [MemberData(nameof(Encodings))]
    public void FlippedPayloadByteFailsOnlyThatBlock(ChunkEncoding encoding)
    {
        var entries = ChunkRoundTripTests.RandomEntries(5, 2000, adversarial: false);
        var chunk = ChunkRoundTripTests.Build(entries, encoding, 8 * 1024);
        var layout = ChunkLayout.Parse(chunk);
        var victim = layout.Blocks[1];
        chunk[victim.Offset + (victim.CompressedSize / 2)] ^= 0x5A;

        using var block = new DecodedBlock();
        var good = 0;
        var bad = 0;
        foreach (var info in layout.Blocks)
        {
            try
            {
                block.Decode(chunk, layout.Encoding, info);
                good += block.Count;
            }
            catch (ChunkCorruptException)
            {
                bad++;
            }
        }

        Assert.Equal(1, bad);
        Assert.Equal(entries.Count - victim.EntryCount, good);
    }

    [Fact]
    public void EveryTruncationIsReportedNotCrashed()
    {
        var entries = ChunkRoundTripTests.RandomEntries(6, 200, adversarial: false);
        var chunk = ChunkRoundTripTests.Build(entries, ChunkEncoding.Snappy, 4 * 1024);
        for (var length = 0; length < chunk.Length; length += 7)
        {
            Assert.Throws<ChunkCorruptException>(() => ChunkLayout.Parse(chunk.AsSpan(0, length)));
        }
    }

    [Fact]
    public void TableCorruptionIsDetected()
    {
        var chunk = ChunkRoundTripTests.Build(ChunkRoundTripTests.RandomEntries(7, 100, false), ChunkEncoding.Zstd);
        chunk[^20] ^= 1;
        Assert.Throws<ChunkCorruptException>(() => ChunkLayout.Parse(chunk));
    }

    [Fact]
    public void FutureIncompatibleVersionIsRefused()
    {
        var chunk = ChunkRoundTripTests.Build(ChunkRoundTripTests.RandomEntries(8, 10, false), ChunkEncoding.None);
        chunk[5] = ChunkFormat.Version + 1;
        Assert.Throws<ChunkCorruptException>(() => ChunkLayout.Parse(chunk));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(1_000_000_000L)]
    public void ForgedTimestampDeltasPastTheBlocksRangeFail(long unit)
    {
        // Uncompressed blocks whose timestamp planes are rewritten (checksum recomputed): a delta reaching past the
        // block's maximum time fails, whether the reader compares products or divides.
        var entries = Enumerable.Range(0, 200)
            .Select(i => new ChunkRoundTripTests.Entry(1_700_000_000_000_000_000L + (i * 3 * unit), [(byte)'x'], []))
            .ToList();
        var chunk = ChunkRoundTripTests.Build(entries, ChunkEncoding.None, 4 * 1024);
        var layout = ChunkLayout.Parse(chunk);
        var info = layout.Blocks[0];
        var payload = chunk.AsSpan(info.Offset, info.CompressedSize);
        var p = 0;
        Assert.True(Varint.TryRead(payload, ref p, out _));
        var width = payload[p++];
        Assert.InRange(width, (byte)1, (byte)7);
        payload.Slice(p + ((width - 1) * info.EntryCount) + (info.EntryCount / 2), 1).Fill(0xFF);
        var forged = info with { Crc = LokiSharp.Storage.Hashing.Crc32C.Compute(payload) };
        using var block = new DecodedBlock();
        Assert.Throws<ChunkCorruptException>(() => block.Decode(chunk, layout.Encoding, forged));
        var clean = ChunkRoundTripTests.Build(entries, ChunkEncoding.None, 4 * 1024);
        block.Decode(clean, layout.Encoding, layout.Blocks[^1]);
        Assert.Equal(layout.Blocks[^1].MaxTime, block.TimestampAt(block.Count - 1));
    }

    [Theory]
    [InlineData(0UL, true)]
    [InlineData(ulong.MaxValue - 4, false)]
    public void VersionOneRowsWithADeltaThatWrapsNegativeFail(ulong secondDelta, bool readable)
    {
        // A hand-made version-1 block (uncompressed, valid CRC): the first entry 10 ns after the block's minimum, the
        // second `secondDelta` later. A delta of 2^64 - 5 lands 5 ns back, still inside [min, max], but out of order.
        var fixture = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Chunks", "Fixtures", "v1-none.chunk"));
        using var writer = new PooledBufferWriter();
        writer.Write(fixture.AsSpan(0, 8));
        foreach (var delta in new[] { 10UL, secondDelta })
        {
            Varint.Write(writer, delta);
            Varint.Write(writer, 1UL);
            writer.Write("x"u8);
            Varint.Write(writer, 0UL);
        }

        var chunk = writer.WrittenSpan.ToArray();
        var payload = chunk.AsSpan(8);
        const long min = 1_700_000_000_000_000_000L;
        var info = new BlockInfo(min, min + 10, 8, payload.Length, payload.Length, 2, LokiSharp.Storage.Hashing.Crc32C.Compute(payload), 0, 0);
        using var block = new DecodedBlock();
        if (readable)
        {
            block.Decode(chunk, ChunkEncoding.None, info);
            Assert.Equal(min + 10, block.TimestampAt(1));
        }
        else
        {
            Assert.Throws<ChunkCorruptException>(() => block.Decode(chunk, ChunkEncoding.None, info));
        }
    }

    [Fact]
    public void ForgedPayloadWithValidChecksumStillFailsCleanly()
    {
        // Garbage that passes the CRC (CRC recomputed) must still be reported, not crash the decoder.
        var rng = new Random(9);
        foreach (var encoding in ChunkEncodings.All)
        {
            var chunk = ChunkRoundTripTests.Build(ChunkRoundTripTests.RandomEntries(9, 300, false), encoding, 4 * 1024);
            var layout = ChunkLayout.Parse(chunk);
            var info = layout.Blocks[0];
            rng.NextBytes(chunk.AsSpan(info.Offset, info.CompressedSize));
            var forged = info with { Crc = LokiSharp.Storage.Hashing.Crc32C.Compute(chunk.AsSpan(info.Offset, info.CompressedSize)) };
            using var block = new DecodedBlock();
            Assert.Throws<ChunkCorruptException>(() => block.Decode(chunk, layout.Encoding, forged));
        }
    }
}

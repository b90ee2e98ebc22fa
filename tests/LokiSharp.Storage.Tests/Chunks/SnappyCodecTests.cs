using System.Text;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;

namespace LokiSharp.Storage.Tests.Chunks;

/// <summary>
/// Snappy blocks decompress straight into the caller's buffer: exact bytes at every size, and hostile blocks (cut
/// short, lying about their length, copying from before the start) fail with an exception and never write past it.
/// </summary>
public sealed class SnappyCodecTests
{
    private static readonly BlockCodec Codec = BlockCodec.For(ChunkEncoding.Snappy);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4096)]
    [InlineData(300_000)]
    public void RoundTripsIntoTheCallersBuffer(int size)
    {
        var block = Block(size);
        var compressed = Compress(block);
        var raw = new byte[size + 8];
        raw.AsSpan().Fill(0xAA);
        Codec.Decompress(compressed, raw.AsSpan(0, size));
        Assert.Equal(block, raw[..size]);
        Assert.All(raw[size..], b => Assert.Equal(0xAA, b));
    }

    [Fact]
    public void ABlockCutShortFails()
    {
        var block = Block(10_000);
        var compressed = Compress(block);
        var raw = new byte[block.Length];
        Assert.ThrowsAny<Exception>(() => Codec.Decompress(compressed.AsSpan(0, compressed.Length / 2), raw));
    }

    [Fact]
    public void ALengthOtherThanTheRecordedOneFails()
    {
        var compressed = Compress(Block(1000));
        Assert.Throws<InvalidDataException>(() => Codec.Decompress(compressed, new byte[999]));
        Assert.Throws<InvalidDataException>(() => Codec.Decompress(compressed, new byte[1001]));
    }

    [Fact]
    public void ACopyFromBeforeTheStartOrPastTheEndFailsWithoutWritingPastTheBuffer()
    {
        // Length 8, then a copy (1-byte offset form) of 4 bytes at offset 5 with nothing written yet.
        byte[] badOffset = [8, 0b0000_0001, 5];
        var raw = new byte[16];
        Assert.ThrowsAny<Exception>(() => Codec.Decompress(badOffset, raw.AsSpan(0, 8)));

        // Length 4, then a 6-byte literal: more than the block holds.
        byte[] tooLong = [4, 5 << 2, 1, 2, 3, 4, 5, 6];
        raw.AsSpan().Fill(0xAA);
        Assert.ThrowsAny<Exception>(() => Codec.Decompress(tooLong, raw.AsSpan(0, 4)));
        Assert.All(raw[4..], b => Assert.Equal(0xAA, b));
    }

    private static byte[] Compress(byte[] raw)
    {
        using var output = new PooledBufferWriter();
        Codec.Compress(raw, output);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Block(int size)
    {
        var rng = new Random(size);
        var text = new StringBuilder();
        while (text.Length < size)
        {
            text.Append("10.0.").Append(rng.Next(256)).Append(" \"GET /api/").Append(rng.Next(99)).Append(" HTTP/1.1\" 200\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString(0, size));
    }
}

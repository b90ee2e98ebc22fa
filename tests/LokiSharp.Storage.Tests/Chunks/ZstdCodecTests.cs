using System.Text;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;

namespace LokiSharp.Storage.Tests.Chunks;

public sealed class ZstdCodecTests
{
    [Fact]
    public async Task ThreadsCompressingAtOnceShareContextsWithoutMixingTheirBlocks()
    {
        // Compression contexts are lent from a pool: blocks compressed on many threads at once must come out exactly as
        // when compressed alone, and decompress to their own bytes.
        var codec = BlockCodec.For(ChunkEncoding.Zstd);
        var blocks = Enumerable.Range(0, 64).Select(Block).ToArray();
        var alone = blocks.Select(b => Compress(codec, b)).ToArray();
        var together = new byte[blocks.Length][];
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = worker; i < blocks.Length; i += 8)
            {
                together[i] = Compress(codec, blocks[i]);
            }
        })));

        for (var i = 0; i < blocks.Length; i++)
        {
            Assert.Equal(alone[i], together[i]);
            var raw = new byte[blocks[i].Length];
            codec.Decompress(together[i], raw);
            Assert.Equal(blocks[i], raw);
        }
    }

    private static byte[] Compress(BlockCodec codec, byte[] raw)
    {
        using var output = new PooledBufferWriter();
        codec.Compress(raw, output);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Block(int seed)
    {
        var rng = new Random(seed);
        var text = new StringBuilder();
        while (text.Length < 20_000 + (seed * 500))
        {
            text.Append("level=info block=").Append(seed).Append(" id=").Append(rng.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture))
                .Append(" msg=\"served\"\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}

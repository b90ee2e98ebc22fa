using System.Globalization;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.Hashing;

namespace LokiSharp.Storage.Tests.Chunks;

/// <summary>Version 1 (row) chunks stay readable; version 2 (columnar) blocks round-trip every line shape.</summary>
public sealed class ChunkFormatVersionTests
{
    // The entries the version-1 fixtures in Fixtures/ were written from (by the version-1 ChunkBuilder, 200-byte blocks).
    private static List<ChunkRoundTripTests.Entry> FixtureEntries()
    {
        var list = new List<ChunkRoundTripTests.Entry>();
        for (var i = 0; i < 12; i++)
        {
            var ts = 1_700_000_000_000_000_000L + (i * 1_000_003L) + (i / 3);
            var line = (i % 4) switch
            {
                0 => string.Create(CultureInfo.InvariantCulture, $"level=info msg=\"request {i}\" id=a{i:x4}f duration={i * 1.5}ms"),
                1 => "",
                2 => $"multi\nline {i}\twith tab",
                _ => "\u00e9t\u00e9 " + new string('x', i * 10),
            };
            LabelPair[] meta = i % 3 == 0 ? [new("trace_id", $"t{i}"), new("user", "u")] : [];
            list.Add(new ChunkRoundTripTests.Entry(ts, System.Text.Encoding.UTF8.GetBytes(line), meta));
        }

        return list;
    }

    [Theory]
    [InlineData("zstd")]
    [InlineData("snappy")]
    [InlineData("none")]
    public void VersionOneChunksStayReadable(string encoding)
    {
        var chunk = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Chunks", "Fixtures", $"v1-{encoding}.chunk"));
        var layout = ChunkLayout.Parse(chunk);
        Assert.Equal(1, layout.Version);
        Assert.Equal(ChunkEncodings.Parse(encoding), layout.Encoding);
        Assert.True(layout.Blocks.Count > 1);
        AssertSame(FixtureEntries(), ChunkRoundTripTests.ReadAll(chunk));
    }

    [Fact]
    public void NewChunksAreVersionTwoAndRefusedByVersionOneReaders()
    {
        var chunk = ChunkRoundTripTests.Build(FixtureEntries(), ChunkEncoding.Zstd, 200);
        Assert.Equal(2, chunk[4]);
        Assert.Equal(2, chunk[5]);
        Assert.Equal(2, ChunkLayout.Parse(chunk).Version);
        AssertSame(FixtureEntries(), ChunkRoundTripTests.ReadAll(chunk));
    }

    [Fact]
    public void VariablesLeaveTheLineTemplates()
    {
        var entries = new List<ChunkRoundTripTests.Entry>();
        for (var i = 0; i < 50; i++)
        {
            entries.Add(new(1000 + i, System.Text.Encoding.UTF8.GetBytes($"GET /item/{i * 7} took={i}.5ms id=ab{i}cd user=bob"), []));
        }

        var chunk = ChunkRoundTripTests.Build(entries, ChunkEncoding.None, tokenizeLines: true);
        var payload = chunk.AsSpan(ChunkLayout.Parse(chunk).Blocks[0].Offset);
        Assert.True(payload.IndexOf("GET /item/\x01 took=\x01 id=\x01 user=bob\n"u8) >= 0);
        Assert.True(payload.IndexOf("343\n49.5ms\nab49cd\n"u8) >= 0);
        AssertSame(entries, ChunkRoundTripTests.ReadAll(chunk));
    }

    public static TheoryData<string> LineShapes() => new()
    {
        "newline", "marker", "both-terminators", "both-markers", "every-byte", "no-tokens", "only-variables",
    };

    [Theory]
    [MemberData(nameof(LineShapes))]
    public void EveryLineShapeRoundTrips(string shape)
    {
        var rng = new Random(shape.Length);
        var entries = new List<ChunkRoundTripTests.Entry>();
        var ts = -5_000_000L;
        for (var i = 0; i < 400; i++)
        {
            var text = $"x{i} a-b_c.d {rng.Next()} end";
            byte[] line = shape switch
            {
                "newline" => System.Text.Encoding.UTF8.GetBytes(text + "\n" + text),
                "marker" => [.. System.Text.Encoding.UTF8.GetBytes(text), 0x01, 0x31],
                "both-terminators" => [.. System.Text.Encoding.UTF8.GetBytes(text), 0x0A, 0x1E, 0x32],
                "both-markers" => [0x01, .. System.Text.Encoding.UTF8.GetBytes(text), 0x1F],
                "every-byte" => i == 7 ? [.. Enumerable.Range(0, 256).Select(b => (byte)b)] : System.Text.Encoding.UTF8.GetBytes(text),
                "no-tokens" => System.Text.Encoding.UTF8.GetBytes(new string(' ', i % 5) + "!?/" + "ü"),
                _ => System.Text.Encoding.UTF8.GetBytes($"{i}{rng.Next()}"),
            };
            ts += i % 3 == 0 ? 0 : 1000 * rng.Next(1, 50);
            LabelPair[] meta = i % 5 == 0 ? [new("k", $"v{i}")] : [];
            entries.Add(new(ts, line, meta));
        }

        foreach (var encoding in ChunkEncodings.All)
        {
            foreach (var tokenize in new[] { false, true })
            {
                AssertSame(entries, ChunkRoundTripTests.ReadAll(ChunkRoundTripTests.Build(entries, encoding, 2048, tokenizeLines: tokenize)));
            }
        }
    }

    [Fact]
    public void EqualAndCoarseTimestampsRoundTrip()
    {
        var same = Enumerable.Range(0, 100).Select(i => new ChunkRoundTripTests.Entry(42, [(byte)('a' + (i % 26))], [])).ToList();
        AssertSame(same, ChunkRoundTripTests.ReadAll(ChunkRoundTripTests.Build(same, ChunkEncoding.Zstd)));
        var millis = Enumerable.Range(0, 100).Select(i => new ChunkRoundTripTests.Entry(1_700_000_000_000_000_000L + (i * i * 1_000_000L), "m"u8.ToArray(), [])).ToList();
        AssertSame(millis, ChunkRoundTripTests.ReadAll(ChunkRoundTripTests.Build(millis, ChunkEncoding.Zstd)));
        var extreme = new List<ChunkRoundTripTests.Entry> { new(long.MinValue, "a"u8.ToArray(), []), new(0, "b"u8.ToArray(), []), new(long.MaxValue, "c"u8.ToArray(), []) };
        AssertSame(extreme, ChunkRoundTripTests.ReadAll(ChunkRoundTripTests.Build(extreme, ChunkEncoding.None)));
    }

    [Fact]
    public void MutatedColumnarPayloadsFailCleanly()
    {
        // Uncompressed blocks put every mutation in front of the columnar parser; each must decode or be reported,
        // and a block that decodes must hand out every line without failing.
        var entries = ChunkRoundTripTests.RandomEntries(11, 200, adversarial: false);
        foreach (var tokenize in new[] { false, true })
        {
            MutateAndDecode(ChunkRoundTripTests.Build(entries, ChunkEncoding.None, 4096, tokenizeLines: tokenize));
        }
    }

    private static void MutateAndDecode(byte[] original)
    {
        var layout = ChunkLayout.Parse(original);
        var rng = new Random(12);
        using var block = new DecodedBlock();
        for (var round = 0; round < 3000; round++)
        {
            var chunk = (byte[])original.Clone();
            var info = layout.Blocks[rng.Next(layout.Blocks.Count)];
            for (var k = rng.Next(1, 4); k > 0; k--)
            {
                chunk[info.Offset + rng.Next(info.CompressedSize)] = (byte)rng.Next(256);
            }

            var forged = info with { Crc = Crc32C.Compute(chunk.AsSpan(info.Offset, info.CompressedSize)) };
            try
            {
                block.Decode(chunk, layout.Encoding, forged);
                for (var i = 0; i < block.Count; i++)
                {
                    Assert.InRange(block.TimestampAt(i), info.MinTime, info.MaxTime);
                    _ = block[i].Line.Length;
                }
            }
            catch (ChunkCorruptException)
            {
            }
        }
    }

    private static void AssertSame(IReadOnlyList<ChunkRoundTripTests.Entry> expected, IReadOnlyList<ChunkRoundTripTests.Entry> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Ts, actual[i].Ts);
            Assert.True(expected[i].Line.AsSpan().SequenceEqual(actual[i].Line), $"line {i}");
            Assert.Equal(expected[i].Meta, actual[i].Meta);
        }
    }
}

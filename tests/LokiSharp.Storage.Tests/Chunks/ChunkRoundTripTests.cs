using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;
using LokiSharp.Storage.Hashing;

namespace LokiSharp.Storage.Tests.Chunks;

public sealed class ChunkRoundTripTests
{
    public static TheoryData<ChunkEncoding> Encodings()
    {
        var data = new TheoryData<ChunkEncoding>();
        foreach (var e in ChunkEncodings.All)
        {
            data.Add(e);
        }

        return data;
    }

    internal sealed record Entry(long Ts, byte[] Line, LabelPair[] Meta);

    internal static List<Entry> RandomEntries(int seed, int count, bool adversarial)
    {
        var rng = new Random(seed);
        var list = new List<Entry>(count);
        var ts = 1_700_000_000_000_000_000L;
        for (var i = 0; i < count; i++)
        {
            ts += rng.Next(0, 3) == 0 ? 0 : rng.Next(1, 1_000_000);
            byte[] line;
            var kind = adversarial ? rng.Next(6) : 5;
            switch (kind)
            {
                case 0:
                    line = [];
                    break;
                case 1:
                    line = new byte[256 * 1024];
                    rng.NextBytes(line);
                    break;
                case 2:
                    line = [0xFF, 0xFE, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0x00];
                    break;
                case 3:
                    line = new byte[rng.Next(1, 64)];
                    rng.NextBytes(line);
                    break;
                case 4:
                    line = System.Text.Encoding.UTF8.GetBytes(new string('x', rng.Next(1, 3000)));
                    break;
                default:
                    line = System.Text.Encoding.UTF8.GetBytes(
                        $"level=info msg=\"request {i}\" user={rng.Next(100)} path=/api/v1/{rng.Next(10)} took={rng.Next(1000)}ms ünïcødé");
                    break;
            }

            var meta = rng.Next(3) switch
            {
                0 => Array.Empty<LabelPair>(),
                1 => [new LabelPair("trace_id", rng.Next().ToString("x8", System.Globalization.CultureInfo.InvariantCulture))],
                _ => [new LabelPair("a", ""), new LabelPair("user", "ü" + rng.Next(10)), new LabelPair("", "empty name")],
            };
            list.Add(new Entry(ts, line, meta));
        }

        return list;
    }

    internal static byte[] Build(IReadOnlyList<Entry> entries, ChunkEncoding encoding, int blockSize = 256 * 1024,
        double filterRatio = 0.03, bool? tokenizeLines = null)
    {
        using var builder = tokenizeLines is { } tokenize
            ? new ChunkBuilder(encoding, blockSize, filterRatio, tokenize)
            : new ChunkBuilder(encoding, blockSize, filterRatio);
        foreach (var e in entries)
        {
            builder.Append(e.Ts, e.Line, e.Meta);
        }

        using var output = new PooledBufferWriter();
        var summary = builder.Finish(output);
        Assert.Equal(entries.Count, summary.Entries);
        Assert.Equal(output.WrittenCount, summary.StoredBytes);
        return output.WrittenSpan.ToArray();
    }

    internal static List<Entry> ReadAll(byte[] chunk)
    {
        var layout = ChunkLayout.Parse(chunk);
        var result = new List<Entry>();
        using var block = new DecodedBlock();
        foreach (var info in layout.Blocks)
        {
            block.Decode(chunk, layout.Encoding, info);
            for (var i = 0; i < block.Count; i++)
            {
                var e = block[i];
                result.Add(new Entry(e.Timestamp, e.Line.ToArray(), e.Metadata.ToLabelPairs()));
            }
        }

        return result;
    }

    private static void AssertSame(IReadOnlyList<Entry> expected, IReadOnlyList<Entry> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Ts, actual[i].Ts);
            Assert.True(expected[i].Line.AsSpan().SequenceEqual(actual[i].Line), $"line {i}");
            Assert.Equal(expected[i].Meta, actual[i].Meta);
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void RunsOfRepeatedMetadataRoundTrip(ChunkEncoding encoding)
    {
        // Readers skip an entry's metadata by comparing it with the previous entry's: runs, a value that extends the
        // previous one, a pair more, none, and back again must all come out as written.
        LabelPair[][] shapes =
        [
            [new LabelPair("detected_level", "info")],
            [new LabelPair("detected_level", "info")],
            [new LabelPair("detected_level", "infox")],
            [new LabelPair("detected_level", "info"), new LabelPair("trace_id", "00ff")],
            [],
            [new LabelPair("detected_level", "info")],
            [new LabelPair("", "")],
            [new LabelPair("", "")],
        ];
        var entries = new List<Entry>();
        for (var i = 0; i < 2000; i++)
        {
            var shape = shapes[(i / 3) % shapes.Length];
            entries.Add(new Entry(1_700_000_000_000_000_000L + i, System.Text.Encoding.UTF8.GetBytes($"line {i % 7} took={i}ms"), shape));
        }

        foreach (var tokenize in new[] { false, true })
        {
            var chunk = Build(entries, encoding, 4 * 1024, tokenizeLines: tokenize);
            AssertSame(entries, ReadAll(chunk));

            // A repeat is reported exactly where an entry's metadata bytes equal the previous entry's in the block (none for
            // an entry without metadata), so readers may reuse what they decoded for the previous entry.
            var layout = ChunkLayout.Parse(chunk);
            using var block = new DecodedBlock();
            var repeats = 0;
            foreach (var info in layout.Blocks)
            {
                block.Decode(chunk, layout.Encoding, info);
                Assert.False(block.MetadataRepeatsPrevious(0));
                for (var i = 1; i < block.Count; i++)
                {
                    var same = block[i].Metadata.Encoded.Length > 1 && block[i].Metadata.Encoded.SequenceEqual(block[i - 1].Metadata.Encoded);
                    Assert.Equal(same, block.MetadataRepeatsPrevious(i));
                    repeats += same ? 1 : 0;
                }
            }

            Assert.True(repeats > entries.Count / 2);
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void RandomEntriesRoundTrip(ChunkEncoding encoding)
    {
        var entries = RandomEntries(1, 3000, adversarial: false);
        var chunk = Build(entries, encoding, 16 * 1024);
        var layout = ChunkLayout.Parse(chunk);
        Assert.Equal(encoding, layout.Encoding);
        Assert.True(layout.Blocks.Count > 5);
        AssertSame(entries, ReadAll(chunk));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void AdversarialEntriesRoundTrip(ChunkEncoding encoding)
    {
        var entries = RandomEntries(2, 60, adversarial: true);
        entries.Add(new Entry(entries[^1].Ts, [], []));
        entries.Add(new Entry(long.MaxValue, [1, 2, 3, 4, 5], [new LabelPair("k", new string('v', 70_000))]));
        AssertSame(entries, ReadAll(Build(entries, encoding)));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void EmptyChunkRoundTrips(ChunkEncoding encoding)
    {
        var chunk = Build([], encoding);
        Assert.Empty(ChunkLayout.Parse(chunk).Blocks);
    }

    [Fact]
    public void NegativeAndExtremeTimestampsRoundTrip()
    {
        List<Entry> entries =
        [
            new(long.MinValue, [1], []), new(-5, [2], []), new(0, [3], []), new(long.MaxValue, [4], []),
        ];
        AssertSame(entries, ReadAll(Build(entries, ChunkEncoding.Snappy)));
    }

    [Fact]
    public void BlocksRecordTimeRangeCountsAndSizes()
    {
        var entries = RandomEntries(3, 2000, adversarial: false);
        var chunk = Build(entries, ChunkEncoding.Lz4_256K, 8 * 1024);
        var layout = ChunkLayout.Parse(chunk);
        var index = 0;
        foreach (var b in layout.Blocks)
        {
            Assert.Equal(entries[index].Ts, b.MinTime);
            Assert.Equal(entries[index + b.EntryCount - 1].Ts, b.MaxTime);
            Assert.True(b.RawSize >= 8 * 1024 || b.Equals(layout.Blocks[^1]));
            index += b.EntryCount;
        }

        Assert.Equal(entries.Count, index);
    }

    [Fact]
    public void OutOfOrderAppendIsRejected()
    {
        using var builder = new ChunkBuilder(ChunkEncoding.None);
        builder.Append(10, "a");
        Assert.Throws<ArgumentException>(() => builder.Append(9, "b"));
    }

    [Fact]
    public void EncodingNamesMatchLoki()
    {
        foreach (var e in ChunkEncodings.All)
        {
            Assert.Equal(e, ChunkEncodings.Parse(ChunkEncodings.Name(e)));
        }

        Assert.Equal(ChunkEncoding.Lz4_4M, ChunkEncodings.Parse("lz4"));
        Assert.Equal(ChunkEncoding.Lz4_1M, ChunkEncodings.Parse("lz4-1M"));
        Assert.Throws<ArgumentException>(() => ChunkEncodings.Parse("brotli"));
    }

    [Fact]
    public void Crc32CMatchesKnownVectorsInBothImplementations()
    {
        var data = "123456789"u8;
        Assert.Equal(0xE3069283u, Crc32C.Compute(data));
        Assert.Equal(0xE3069283u, Crc32C.AppendSoftwareForTest(0, data));
        var random = new byte[1000];
        new Random(4).NextBytes(random);
        Assert.Equal(Crc32C.Compute(random), Crc32C.AppendSoftwareForTest(0, random));
        Assert.Equal(Crc32C.Compute(random), Crc32C.Append(Crc32C.Compute(random.AsSpan(0, 333)), random.AsSpan(333)));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Theory]
    [InlineData(24 * 1024 - 1)]
    [InlineData(24 * 1024)]
    [InlineData(24 * 1024 + 1)]
    [InlineData(48 * 1024 + 13)]
    [InlineData(300_001)]
    public void Crc32CWithInterleavedLanesMatchesOneLaneAndSoftwareAtEveryLengthAndSplit(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        var expected = Crc32C.AppendSoftwareForTest(0, data);
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.AppendOneLaneForTest(0, data));
        foreach (var split in (int[])[1, 7, 8191, length / 2, length - 3])
        {
            Assert.Equal(expected, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
        }

        Assert.Equal(Crc32C.AppendSoftwareForTest(0x12345678, data), Crc32C.Append(0x12345678, data));
    }
}

using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.ContentIndex;

namespace LokiSharp.Storage.Tests.ContentIndex;

/// <summary>
/// The filters the builder writes are bit-identical to a plain byte-at-a-time build of the same definition (kept
/// here with its own copy of both hashes), so a faster build cannot change what stored chunks hold or what
/// readers of older chunks expect.
/// </summary>
public sealed class FilterBuildReferenceTests
{
    [Fact]
    public void BuiltFiltersEqualTheReferenceBuildForEveryKindOfLine()
    {
        var rng = new Random(26);
        using var builder = new NGramFilterBuilder();
        var (texts, idBits) = (0, 0);
        for (var block = 0; block < 60; block++)
        {
            var reference = AddBlock(rng, block, builder);

            var budget = block % 5 == 0 ? 40 + rng.Next(200) : 256 + rng.Next(1 << 14);
            using var output = new PooledBufferWriter();
            var text = builder.WriteAndClear(output, budget);
            var ids = builder.WriteIdsAndClear(output, Math.Max(64, budget * 7 / 3));
            var expectedText = reference.Text(budget);
            var expectedIds = reference.Ids(Math.Max(64, budget * 7 / 3));
            Assert.Equal(expectedText.Length, text);
            Assert.Equal(expectedIds.Length, ids);
            Assert.Equal(Convert.ToHexString(expectedText), Convert.ToHexString(output.WrittenSpan[..text]));
            Assert.Equal(Convert.ToHexString(expectedIds), Convert.ToHexString(output.WrittenSpan[text..]));
            texts += text > 0 ? 1 : 0;
            idBits += output.WrittenSpan[text..].ContainsAnyExcept((byte)0) ? 1 : 0;
        }

        // The sample reaches both filters' sizing and folding, not only their empty cases.
        Assert.True(texts > 30, $"{texts} text filters");
        Assert.True(idBits > 30, $"{idBits} id filters with an id");
    }

    // The builder writes (and clears) the filters the reference build makes at these budgets.
    private static void AssertWritesTheReference(NGramFilterBuilder builder, ReferenceBuild reference, int textBudget, int idBudget)
    {
        using var output = new PooledBufferWriter();
        var text = builder.WriteAndClear(output, textBudget);
        builder.WriteIdsAndClear(output, idBudget);
        Assert.Equal(Convert.ToHexString(reference.Text(textBudget)), Convert.ToHexString(output.WrittenSpan[..text]));
        Assert.Equal(Convert.ToHexString(reference.Ids(idBudget)), Convert.ToHexString(output.WrittenSpan[text..]));
    }

    // A block of 1 to 2000 lines of the block's kind, added to the builder and to a reference build, which is returned.
    private static ReferenceBuild AddBlock(Random rng, int block, NGramFilterBuilder builder)
    {
        var reference = new ReferenceBuild();
        var lines = 1 + rng.Next(block % 3 == 0 ? 20 : 2000);
        for (var i = 0; i < lines; i++)
        {
            var line = Line(rng, block);
            builder.AddLine(line);
            reference.AddLine(line);
        }

        return reference;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryLineLengthAndGramPositionBuildsTheReferenceFilter(bool hashEightAtATime)
    {
        // Each length from 4 to 200 bytes, so the last chunk's grams and the hashing window's edges fall at every
        // place; digits scattered so that indexed and unindexed grams meet at every position of a 32-byte chunk. Both
        // ways of hashing text grams are checked (one at a time is what CPUs without AVX2 run).
        var rng = new Random(7);
        using var builder = new NGramFilterBuilder(hashEightAtATime);
        for (var length = 4; length <= 200; length++)
        {
            var reference = new ReferenceBuild();
            for (var i = 0; i < 8; i++)
            {
                var line = RandomBytes(rng, length, i % 2 == 0 ? "abcdefgh ijk=\"é0" : "abcdefghijklmnopqrstuvwxyz");
                builder.AddLine(line);
                reference.AddLine(line);
            }

            AssertWritesTheReference(builder, reference, 1 << 16, 1 << 16);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ScratchesSizedForTheLargestFilterBuildTheReferenceBits(bool hashEightAtATime)
    {
        // A chunk builder sizes its scratches for the largest filters its blocks can store (BitsForBudget): each stored
        // filter is then the reference scratch folded to the stored size, and its size is the reference's whenever that
        // fits the scratch (sizing counts the grams from the smaller scratch's bits).
        var rng = new Random(41);
        var (textBits, idBits) = (NGramFilterBuilder.BitsForBudget(7864), NGramFilterBuilder.BitsForBudget(7864 * 7 / 3));
        Assert.Equal((1 << 15, 1 << 17), (textBits, idBits));
        using var builder = new NGramFilterBuilder(textBits, idBits, hashEightAtATime);
        var (texts, sameSizes) = (0, 0);
        for (var block = 0; block < 60; block++)
        {
            var reference = AddBlock(rng, block, builder);

            var budget = block % 5 == 0 ? 40 + rng.Next(200) : 256 + rng.Next(7864 - 256);
            using var output = new PooledBufferWriter();
            var text = builder.WriteAndClear(output, budget);
            var ids = builder.WriteIdsAndClear(output, Math.Max(64, budget * 7 / 3));
            Assert.True(text * 8 <= textBits && ids * 8 <= idBits, $"{text} and {ids} bytes");
            Assert.Equal(Convert.ToHexString(reference.TextFoldedTo(text)), Convert.ToHexString(output.WrittenSpan[..text]));
            Assert.Equal(Convert.ToHexString(reference.IdsFoldedTo(ids)), Convert.ToHexString(output.WrittenSpan[text..]));
            texts += text > 0 ? 1 : 0;
            sameSizes += text == reference.Text(budget).Length && ids == reference.Ids(Math.Max(64, budget * 7 / 3)).Length ? 1 : 0;
        }

        Assert.True(texts > 30, $"{texts} text filters");
        Assert.True(sameSizes >= 58, $"{sameSizes} of 60 blocks with the reference's sizes");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LinesAddedAfterTheLineTheyStartLikeBuildTheReferenceFilter(bool hashEightAtATime)
    {
        // Each line shares a first part of any length with the one before it (none, shorter than a gram, the whole line),
        // then goes its own way, with digits and id runs on both sides of where they part.
        var rng = new Random(12);
        using var builder = new NGramFilterBuilder(hashEightAtATime);
        for (var block = 0; block < 40; block++)
        {
            var reference = new ReferenceBuild();
            byte[] previous = [];
            for (var i = 0; i < 1 + rng.Next(300); i++)
            {
                var shared = Math.Min(previous.Length, rng.Next(4) == 0 ? previous.Length : rng.Next(60));
                var line = (byte[])[.. previous.AsSpan(0, shared), .. Line(rng, block)];
                builder.AddLine(line, previous);

                reference.AddLine(line);
                previous = line;
            }

            AssertWritesTheReference(builder, reference, 1 << 13, 1 << 14);
        }
    }

    [Fact]
    public void ClearForgetsEverythingAdded()
    {
        using var builder = new NGramFilterBuilder();
        builder.AddLine("request 0123456789abcdef failed with timeout"u8);
        builder.Clear();
        builder.AddLine("served request abcdef9876543210 in time"u8);
        var reference = new ReferenceBuild();
        reference.AddLine("served request abcdef9876543210 in time"u8.ToArray());
        AssertWritesTheReference(builder, reference, 4096, 4096);
    }

    // Lines of every shape the build special-cases: short, long, digits at 32-byte chunk edges, id runs crossing
    // chunks, JSON and logfmt with ids, non-ASCII bytes, digit-only text.
    private static byte[] Line(Random rng, int block)
    {
        switch (rng.Next(block % 2 == 0 ? 8 : 6))
        {
            case 0:
                return RandomBytes(rng, rng.Next(12), "ab0 ");
            case 1:
                return Encoding.UTF8.GetBytes(
                    $"{{\"ts\":\"2026-12-07T02:{rng.Next(60):D2}:00Z\",\"level\":\"info\",\"request_id\":\"{rng.NextInt64():x16}\",\"msg\":\"served\"}}");
            case 2:
                return Encoding.UTF8.GetBytes(
                    $"level=warn caller=server.go:{rng.Next(900)} trace={Guid.NewGuid():N} user=user{rng.Next(99)}x duration={rng.Next(100)}ms");
            case 3:
                return RandomBytes(rng, 1 + rng.Next(300), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
            case 4:
                return RandomBytes(rng, 1 + rng.Next(140), "abcXYZ019 _-./:\"=é\u00ff\t");
            case 5:
                var edge = new byte[64 + rng.Next(70)];
                for (var i = 0; i < edge.Length; i++)
                {
                    edge[i] = (byte)(i % 32 is 0 or 1 or 30 or 31 && rng.Next(2) == 0 ? '0' + rng.Next(10) : 'a' + rng.Next(4));
                }

                return edge;
            case 6:
                return RandomBytes(rng, 1 + rng.Next(80), "0123456789");
            default:
                return Encoding.UTF8.GetBytes($"GET /api/v1/items/{rng.Next(1_000_000)} HTTP/1.1 200 ok é größe {new string('x', rng.Next(40))}");
        }
    }

    private static byte[] RandomBytes(Random rng, int length, string alphabet)
    {
        var symbols = Encoding.UTF8.GetBytes(alphabet);
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = symbols[rng.Next(symbols.Length)];
        }

        return bytes;
    }

    /// <summary>The definition, byte by byte: both scratch filters, their sizing and folding.</summary>
    private sealed class ReferenceBuild
    {
        private const int Bits = 20;
        private readonly ulong[] _text = new ulong[(1 << Bits) / 64];
        private readonly ulong[] _ids = new ulong[(1 << Bits) / 64];
        private bool _anyText;
        private bool _anyId;

        public void AddLine(byte[] line)
        {
            if (line.Length < 4)
            {
                return;
            }

            _anyText = true;
            for (var end = 3; end < line.Length; end++)
            {
                if (!IsDigit(line[end]) && !IsDigit(line[end - 1]) && !IsDigit(line[end - 2]) && !IsDigit(line[end - 3]))
                {
                    Set(_text, TextHash(BinaryPrimitives.ReadUInt32BigEndian(line.AsSpan(end - 3))));
                }
            }

            // Runs of at least 8 letters and digits holding a digit: every 8-byte gram of the run with a digit in it.
            for (var start = 0; start < line.Length;)
            {
                if (!IsIdByte(line[start]))
                {
                    start++;
                    continue;
                }

                var stop = start;
                while (stop < line.Length && IsIdByte(line[stop]))
                {
                    stop++;
                }

                for (var end = start + 7; end < stop; end++)
                {
                    var gram = line.AsSpan(end - 7, 8);
                    if (gram.ContainsAnyInRange((byte)'0', (byte)'9'))
                    {
                        Set(_ids, IdHash(BinaryPrimitives.ReadUInt64BigEndian(gram)));
                        _anyId = true;
                    }
                }

                start = stop;
            }
        }

        public byte[] Text(int budget) => !_anyText ? [] : Count(_text) == 0 ? [] : Fold(_text, Math.Min(Count(_text) * 8L, 1L << Bits), budget);

        public byte[] Ids(int budget) => Fold(_ids, _anyId ? Count(_ids) * 2L : 512, budget);

        private static byte[] Fold(ulong[] scratch, long wanted, int budget)
        {
            long budgetBits = budget * 8L;
            if (budgetBits < 512)
            {
                return [];
            }

            var bits = (long)BitOperations.RoundUpToPowerOf2((ulong)wanted);
            bits = Math.Min(bits, 1L << Bits);
            var largest = 512L;
            while (largest * 2 <= budgetBits)
            {
                largest *= 2;
            }

            bits = Math.Max(Math.Min(bits, largest), 512);
            var folded = new ulong[bits / 64];
            for (var i = 0; i < scratch.Length; i++)
            {
                folded[i % folded.Length] |= scratch[i];
            }

            var set = 0L;
            foreach (var word in folded)
            {
                set += BitOperations.PopCount(word);
            }

            if (set > bits * 0.8)
            {
                return [];
            }

            var bytes = new byte[bits / 8];
            for (var i = 0; i < folded.Length; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), folded[i]);
            }

            return bytes;
        }

        public byte[] TextFoldedTo(int bytes) => FoldTo(_text, bytes);

        public byte[] IdsFoldedTo(int bytes) => FoldTo(_ids, bytes);

        private static byte[] FoldTo(ulong[] scratch, int bytes)
        {
            var folded = new ulong[bytes / 8];
            for (var i = 0; i < scratch.Length && folded.Length > 0; i++)
            {
                folded[i % folded.Length] |= scratch[i];
            }

            var result = new byte[bytes];
            for (var i = 0; i < folded.Length; i++)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(i * 8), folded[i]);
            }

            return result;
        }

        private static int Count(ulong[] scratch)
        {
            var count = 0;
            foreach (var word in scratch)
            {
                count += BitOperations.PopCount(word);
            }

            return count;
        }

        private static void Set(ulong[] scratch, uint bit) => scratch[bit >> 6] |= 1UL << (int)(bit & 63);

        private static uint TextHash(uint gram) => (gram * 0x9E3779B1u) >> (32 - Bits);

        private static uint IdHash(ulong gram)
        {
            var h = gram * 0x9E3779B97F4A7C15UL;
            h ^= h >> 29;
            h *= 0xBF58476D1CE4E5B9UL;
            h ^= h >> 32;
            return (uint)(h >> (64 - Bits));
        }

        private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

        private static bool IsIdByte(byte b) => IsDigit(b) || b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z';
    }
}

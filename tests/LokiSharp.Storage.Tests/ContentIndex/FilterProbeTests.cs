using LokiSharp.Storage.ContentIndex;

namespace LokiSharp.Storage.Tests.ContentIndex;

/// <summary>A probe derived once per search tests a block exactly as the literal's own gram walk does.</summary>
public sealed class FilterProbeTests
{
    [Fact]
    public void ProbesAnswerAsTheLiteralTestsForEveryFilterAndLiteral()
    {
        var rng = new Random(21);
        const string symbols = "abcdef0123456789xyz_-\":= ";
        var agreedMisses = 0;
        for (var round = 0; round < 3000; round++)
        {
            // Filters of every stored size and fill, among them empty ones (a block without a filter).
            var size = round % 10 == 0 ? 0 : 64 << rng.Next(0, 5);
            var filter = new byte[size];
            var fill = rng.NextDouble();
            for (var i = 0; i < size; i++)
            {
                for (var bit = 0; bit < 8; bit++)
                {
                    filter[i] |= (byte)(rng.NextDouble() < fill ? 1 << bit : 0);
                }
            }

            var literal = new byte[rng.Next(0, 40)];
            for (var i = 0; i < literal.Length; i++)
            {
                literal[i] = (byte)symbols[rng.Next(symbols.Length)];
            }

            var text = NGramFilter.MayContain(filter, literal);
            var id = NGramFilter.MayContainId(filter, literal);
            Assert.Equal(text, NGramFilter.AllSet(filter, NGramFilter.TextProbe(literal)));
            Assert.Equal(id, NGramFilter.AllSet(filter, NGramFilter.IdProbe(literal)));
            agreedMisses += text && id ? 0 : 1;
        }

        // The comparison covered rejections, not only literals that always pass.
        Assert.True(agreedMisses > 500, $"{agreedMisses} rejections");
    }

    [Fact]
    public void LiteralsWithoutTestableGramsHaveNoProbe()
    {
        Assert.Null(NGramFilter.TextProbe("abc"u8));
        Assert.Null(NGramFilter.TextProbe("a1b2c3d4e5"u8));
        Assert.Null(NGramFilter.IdProbe("abcdefgh"u8));
        Assert.Null(NGramFilter.IdProbe("1234567"u8));
        Assert.NotNull(NGramFilter.IdProbe("5106a8ab4a9a9328"u8));
        Assert.Equal(9, NGramFilter.IdProbe("5106a8ab4a9a9328"u8)!.Length);
    }
}

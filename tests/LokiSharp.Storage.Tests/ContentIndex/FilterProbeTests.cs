using LokiSharp.Storage.ContentIndex;

namespace LokiSharp.Storage.Tests.ContentIndex;

/// <summary>
/// Which grams a search probes. MayContain and MayContainId test blocks through the same probes, so NGramFilterTests and
/// IdFilterTests (no false negatives, rejections) cover them too.
/// </summary>
public sealed class FilterProbeTests
{
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

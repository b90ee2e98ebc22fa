using System.Buffers;
using System.Numerics;

namespace LokiSharp.Storage.Index;

/// <summary>A pooled bitmap over series ids, the working set of matcher evaluation.</summary>
internal struct SeriesBitmap : IDisposable
{
    private ulong[] _words;

    public SeriesBitmap(int bits, bool allSet)
    {
        WordCount = (bits + 63) >> 6;
        _words = ArrayPool<ulong>.Shared.Rent(Math.Max(WordCount, 1));
        var span = _words.AsSpan(0, WordCount);
        if (allSet)
        {
            span.Fill(ulong.MaxValue);
            if ((bits & 63) != 0)
            {
                span[^1] = (1UL << (bits & 63)) - 1;
            }
        }
        else
        {
            span.Clear();
        }
    }

    public int WordCount { get; }

    public readonly Span<ulong> Words => _words.AsSpan(0, WordCount);

    public readonly void Set(int id) => _words[id >> 6] |= 1UL << (id & 63);

    public readonly void SetAll(ReadOnlySpan<int> ids)
    {
        var words = _words;
        foreach (var id in ids)
        {
            words[id >> 6] |= 1UL << (id & 63);
        }
    }

    public readonly void And(in SeriesBitmap other)
    {
        var a = Words;
        var b = other.Words;
        for (var i = 0; i < a.Length; i++)
        {
            a[i] &= b[i];
        }
    }

    public readonly void AndNot(in SeriesBitmap other)
    {
        var a = Words;
        var b = other.Words;
        for (var i = 0; i < a.Length; i++)
        {
            a[i] &= ~b[i];
        }
    }

    public readonly void Clear() => Words.Clear();

    /// <summary>Appends every set id in ascending order.</summary>
    public readonly void CollectInto(List<int> ids)
    {
        var words = Words;
        for (var w = 0; w < words.Length; w++)
        {
            var word = words[w];
            while (word != 0)
            {
                ids.Add((w << 6) + BitOperations.TrailingZeroCount(word));
                word &= word - 1;
            }
        }
    }

    public void Dispose()
    {
        if (_words is { Length: > 0 })
        {
            ArrayPool<ulong>.Shared.Return(_words);
        }

        _words = [];
    }
}

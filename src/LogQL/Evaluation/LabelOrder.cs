using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Evaluation;

/// <summary>
/// Prometheus' <c>labels.Compare</c>, the order of Loki's metric results: pair by pair, name then value, compared as
/// UTF-8 bytes (code points), then the shorter set first.
/// </summary>
public sealed class LabelOrder : IComparer<LabelSet>
{
    /// <summary>The shared instance.</summary>
    public static LabelOrder Instance { get; } = new();

    /// <inheritdoc />
    public int Compare(LabelSet? x, LabelSet? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        return Compare(x.AsSpan(), y.AsSpan());
    }

    /// <summary>The order of <see cref="Compare(LabelSet, LabelSet)"/> for two sets' sorted pairs.</summary>
    public static int Compare(ReadOnlySpan<LabelPair> a, ReadOnlySpan<LabelPair> b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            var byName = CompareUtf8(a[i].Name, b[i].Name);
            if (byName != 0)
            {
                return byName;
            }

            var byValue = CompareUtf8(a[i].Value, b[i].Value);
            if (byValue != 0)
            {
                return byValue;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    /// <summary>Compares strings in UTF-8 byte order, which is code point order (UTF-16 order differs for surrogates).</summary>
    public static int CompareUtf8(string a, string b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            var ca = a[i];
            var cb = b[i];
            if (ca == cb)
            {
                continue;
            }

            // Surrogates encode code points above U+FFFF, which sort after every BMP character.
            var sa = char.IsSurrogate(ca);
            var sb = char.IsSurrogate(cb);
            if (sa != sb)
            {
                return sa ? 1 : -1;
            }

            return ca < cb ? -1 : 1;
        }

        return a.Length.CompareTo(b.Length);
    }
}

using LokiSharp.LogQL.Labels;

namespace LokiSharp.Storage.Index;

/// <summary>64-bit FNV-1a over a label set's names and values: the series fingerprint.</summary>
public static class Fingerprint
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    /// <summary>The fingerprint of <paramref name="labels"/>; stable across processes and versions.</summary>
    public static ulong Of(LabelSet labels)
    {
        var hash = Offset;
        foreach (var pair in labels.AsSpan())
        {
            hash = Add(hash, pair.Name);
            hash = (hash ^ 0xFF) * Prime;
            hash = Add(hash, pair.Value);
            hash = (hash ^ 0xFF) * Prime;
        }

        return hash;
    }

    private static ulong Add(ulong hash, string text)
    {
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * Prime;
            hash = (hash ^ (byte)(c >> 8)) * Prime;
        }

        return hash;
    }
}

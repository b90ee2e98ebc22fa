using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;

namespace LokiSharp.Querier.Logs;

/// <summary>
/// Turns an entry's stored structured metadata into label pairs for the pipeline. Metadata repeats a lot
/// (<c>detected_level=info</c> on most lines), so decoded pairs are cached by their encoded bytes and a repeated
/// value costs a lookup instead of two string allocations. One per query thread.
/// </summary>
internal sealed class MetadataDecoder
{
    private const int MaxCached = 4096;

    private readonly Dictionary<int, List<(byte[] Encoded, LabelPair[] Pairs)>> _cache = [];
    private int _cached;
    private (byte[] Encoded, LabelPair[] Pairs)? _last;

    /// <summary>Bytes of metadata decoded so far (names and values).</summary>
    public long Bytes { get; private set; }

    /// <summary>The pairs of <paramref name="metadata"/>; valid until the cache is cleared, so callers must not keep them.</summary>
    public LabelPair[] Decode(StructuredMetadata metadata)
    {
        var encoded = metadata.Encoded;
        if (encoded.Length <= 1)
        {
            return [];
        }

        // Consecutive entries of a stream mostly carry the same metadata (a stream's detected_level).
        if (_last is not null && encoded.SequenceEqual(_last.Value.Encoded))
        {
            Bytes += encoded.Length;
            return _last.Value.Pairs;
        }

        var hash = new HashCode();
        hash.AddBytes(encoded);
        var key = hash.ToHashCode();
        if (_cache.TryGetValue(key, out var candidates))
        {
            foreach (var (bytes, pairs) in candidates)
            {
                if (encoded.SequenceEqual(bytes))
                {
                    Bytes += bytes.Length;
                    _last = (bytes, pairs);
                    return pairs;
                }
            }
        }

        var decoded = new LabelPair[metadata.Count];
        var i = 0;
        foreach (var pair in metadata)
        {
            decoded[i++] = new LabelPair(Encoding.UTF8.GetString(pair.Name), Encoding.UTF8.GetString(pair.Value));
        }

        Bytes += encoded.Length;
        if (_cached >= MaxCached)
        {
            _cache.Clear();
            _cached = 0;
        }

        if (!_cache.TryGetValue(key, out candidates))
        {
            _cache[key] = candidates = [];
        }

        var copy = encoded.ToArray();
        candidates.Add((copy, decoded));
        _cached++;
        _last = (copy, decoded);
        return decoded;
    }
}

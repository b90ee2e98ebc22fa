using LokiSharp.LogQL.Labels;

namespace LokiSharp.Storage.Chunks;

/// <summary>One log entry viewed in place in a decoded block; valid until the reader moves on.</summary>
public readonly ref struct LogEntry
{
    /// <summary>Creates a view.</summary>
    public LogEntry(long timestamp, ReadOnlySpan<byte> line, StructuredMetadata metadata)
    {
        Timestamp = timestamp;
        Line = line;
        Metadata = metadata;
    }

    /// <summary>Unix nanoseconds.</summary>
    public long Timestamp { get; }

    /// <summary>The line bytes as pushed (normally UTF-8, not validated).</summary>
    public ReadOnlySpan<byte> Line { get; }

    /// <summary>Structured metadata pairs.</summary>
    public StructuredMetadata Metadata { get; }
}

/// <summary>Structured metadata of an entry, viewed in place: a count followed by length-prefixed pairs.</summary>
public readonly ref struct StructuredMetadata
{
    private readonly ReadOnlySpan<byte> _encoded;

    /// <summary>Wraps the encoded form (count varint, then name/value varint-prefixed byte strings).</summary>
    public StructuredMetadata(ReadOnlySpan<byte> encoded) => _encoded = encoded;

    /// <summary>The encoded form, e.g. to cache decoded pairs by content.</summary>
    public ReadOnlySpan<byte> Encoded => _encoded;

    /// <summary>Writes <paramref name="pairs"/> in the encoded form this type reads, e.g. for an in-memory head.</summary>
    public static void Encode(System.Buffers.IBufferWriter<byte> output, ReadOnlySpan<LabelPair> pairs)
    {
        Varint.Write(output, (ulong)pairs.Length);
        foreach (var pair in pairs)
        {
            WriteString(output, pair.Name);
            WriteString(output, pair.Value);
        }
    }

    private static void WriteString(System.Buffers.IBufferWriter<byte> output, string value)
    {
        var length = System.Text.Encoding.UTF8.GetByteCount(value);
        Varint.Write(output, (ulong)length);
        var span = output.GetSpan(length);
        System.Text.Encoding.UTF8.GetBytes(value, span);
        output.Advance(length);
    }

    /// <summary>Number of pairs.</summary>
    public int Count
    {
        get
        {
            var p = 0;
            return Varint.TryRead(_encoded, ref p, out var n) ? (int)n : 0;
        }
    }

    /// <summary>Enumerates the pairs without allocating.</summary>
    public Enumerator GetEnumerator() => new(_encoded);

    /// <summary>The value of <paramref name="name"/> (UTF-8) if present.</summary>
    public bool TryGetValue(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        foreach (var pair in this)
        {
            if (pair.Name.SequenceEqual(name))
            {
                value = pair.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>Materialises the pairs as strings (for responses; allocates).</summary>
    public LabelPair[] ToLabelPairs()
    {
        var count = Count;
        if (count == 0)
        {
            return [];
        }

        var pairs = new LabelPair[count];
        var i = 0;
        foreach (var pair in this)
        {
            pairs[i++] = new LabelPair(System.Text.Encoding.UTF8.GetString(pair.Name),
                System.Text.Encoding.UTF8.GetString(pair.Value));
        }

        return pairs;
    }

    /// <summary>One name/value pair as UTF-8 spans.</summary>
    public readonly ref struct Pair(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        /// <summary>Name bytes.</summary>
        public ReadOnlySpan<byte> Name { get; } = name;

        /// <summary>Value bytes.</summary>
        public ReadOnlySpan<byte> Value { get; } = value;
    }

    /// <summary>Pair enumerator; the encoding was validated when the block was decoded.</summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _encoded;
        private int _position;
        private int _remaining;

        internal Enumerator(ReadOnlySpan<byte> encoded)
        {
            _encoded = encoded;
            _position = 0;
            _remaining = Varint.TryRead(encoded, ref _position, out var n) ? (int)n : 0;
            Current = default;
        }

        /// <summary>The current pair.</summary>
        public Pair Current { get; private set; }

        /// <summary>Advances to the next pair.</summary>
        public bool MoveNext()
        {
            if (_remaining == 0 || !Varint.TryRead(_encoded, ref _position, out var nameLength))
            {
                return false;
            }

            var name = _encoded.Slice(_position, (int)nameLength);
            _position += (int)nameLength;
            Varint.TryRead(_encoded, ref _position, out var valueLength);
            var value = _encoded.Slice(_position, (int)valueLength);
            _position += (int)valueLength;
            _remaining--;
            Current = new Pair(name, value);
            return true;
        }
    }
}

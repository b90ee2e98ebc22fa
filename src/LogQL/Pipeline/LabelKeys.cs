using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>Loki's label-name sanitising for extracted keys, and decoding of UTF-8 values the way Go does.</summary>
public static class LabelKeys
{
    /// <summary>
    /// Trims spaces, prefixes <c>_</c> when the key starts with a digit, and turns every rune outside
    /// <c>[A-Za-z0-9_]</c> into one <c>_</c>. Returns <c>""</c> for keys that are empty after trimming.
    /// </summary>
    public static string Sanitize(ReadOnlySpan<byte> key)
    {
        key = TrimGoSpace(key);
        if (key.IsEmpty)
        {
            return string.Empty;
        }

        var sb = new StringBuilder(key.Length + 1);
        AppendSanitized(sb, key, prefixDigit: true);
        return sb.ToString();
    }

    /// <summary><see cref="Sanitize(ReadOnlySpan{byte})"/> for a string key.</summary>
    public static string Sanitize(string key) => Sanitize(Encoding.UTF8.GetBytes(key));

    /// <summary>Appends a sanitised key part (already trimmed by the caller or not); digits get a <c>_</c> only first.</summary>
    internal static void AppendSanitized(StringBuilder sb, ReadOnlySpan<byte> key, bool prefixDigit)
    {
        key = TrimGoSpace(key);
        if (key.IsEmpty)
        {
            return;
        }

        if (prefixDigit && key[0] is >= (byte)'0' and <= (byte)'9')
        {
            sb.Append('_');
        }

        var i = 0;
        while (i < key.Length)
        {
            var b = key[i];
            if (b < 0x80)
            {
                sb.Append(char.IsAsciiLetterOrDigit((char)b) || b == '_' ? (char)b : '_');
                i++;
                continue;
            }

            // One '_' per rune (an invalid byte counts as one rune, as in Go).
            var status = System.Text.Rune.DecodeFromUtf8(key[i..], out _, out var consumed);
            sb.Append('_');
            i += status == System.Buffers.OperationStatus.Done ? consumed : 1;
        }
    }

    /// <summary>Go's <c>bytes.TrimSpace</c> for ASCII white space (the keys concerned are ASCII in practice).</summary>
    internal static ReadOnlySpan<byte> TrimGoSpace(ReadOnlySpan<byte> s)
    {
        var start = 0;
        while (start < s.Length && IsSpace(s[start]))
        {
            start++;
        }

        var end = s.Length;
        while (end > start && IsSpace(s[end - 1]))
        {
            end--;
        }

        return s[start..end];
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    /// <summary>
    /// Decodes UTF-8 into a string; every byte that is not part of a valid sequence becomes a space, as Loki
    /// replaces Go's <c>RuneError</c> (U+FFFD decoded from the input is replaced too).
    /// </summary>
    public static string DecodeValue(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return string.Empty;
        }

        // Valid input (the common case) decodes in one pass; U+FFFD in the result means invalid bytes or an encoded
        // U+FFFD, both of which Go maps to spaces (per invalid byte), so only then decode rune by rune.
        var decoded = Encoding.UTF8.GetString(value);
        if (!decoded.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return decoded;
        }

        if (System.Text.Unicode.Utf8.IsValid(value))
        {
            return decoded.Replace('\uFFFD', ' ');
        }

        var sb = new StringBuilder(value.Length);
        var i = 0;
        while (i < value.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(value[i..], out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                if (rune.Value == 0xFFFD)
                {
                    sb.Append(' ');
                }
                else
                {
                    sb.Append(rune.ToString());
                }

                i += consumed;
            }
            else
            {
                sb.Append(' ');
                i++;
            }
        }

        return sb.ToString();
    }
}

/// <summary>
/// A direct-mapped cache from raw key bytes to what a parser derives from them (a label name, a <see cref="ParsedKey"/>),
/// so the per-line cost of a key is a hash and a comparison rather than sanitising and allocating. A colliding key
/// simply replaces the slot.
/// </summary>
internal sealed class KeyCache<T>
    where T : class
{
    private const int Slots = 512;
    private readonly byte[]?[] _keys = new byte[]?[Slots];
    private readonly T?[] _values = new T?[Slots];

    public T Get(ReadOnlySpan<byte> key, Func<byte[], T> derive)
    {
        var slot = FastHash.Of(key) & (Slots - 1);
        var cached = _keys[slot];
        if (cached is not null && ShortBytes.Equal(key, cached))
        {
            return _values[slot]!;
        }

        var bytes = key.ToArray();
        var value = derive(bytes);
        _keys[slot] = bytes;
        _values[slot] = value;
        return value;
    }
}

/// <summary>
/// A key a parser met and what it resolves to: the sanitised label name; for the stream label names last seen, the name it is
/// written under (with <c>_extracted</c> when taken) and whether the query needs it; and the short values recently
/// decoded for it, reused when a later line repeats one (levels, methods, status codes), so such values cost no allocation.
/// </summary>
internal sealed class ParsedKey(string name)
{
    /// <summary>Makes the entry of a key named by <see cref="LabelKeys.Sanitize(ReadOnlySpan{byte})"/>.</summary>
    public static readonly Func<byte[], ParsedKey> Sanitized = static key => new ParsedKey(LabelKeys.Sanitize(key));


    private const int MaxCachedValue = 64;
    private object? _resolvedFor;
    private string _resolved = name;
    private bool _wanted;
    private bool _suffixedWanted;
    private bool _shadowsStream;
    // Whether an entry's structured metadata cannot change the resolution: the stream already takes the name, or the
    // query reads neither the name nor its suffixed form (the caller then skips the value whatever it is named).
    private bool _metadataIrrelevant;
    private const int ValueSlots = 16;
    private const int ValueProbes = 4;
    private byte[]? _valueBytes;
    private int[]? _valueLengths;
    private string[]? _valueTexts;
    // Per value slot: the hash term of the slot's text under the name it was last written with.
    private int[]? _slotTerms;
    private string?[]? _slotTermNames;
    private int _lastSlot;

    private bool? _wantsUnder;
    private string? _suffixed;
    private string? _termName;
    private string? _termValue;
    private int _term;

    /// <summary>The sanitised label name (empty when the key yields none).</summary>
    public string Name { get; } = name;

    /// <summary>For a nested JSON object's key path: whether <paramref name="hints"/> need any label under it.</summary>
    public bool WantsUnder(ParserHints? hints) =>
        _wantsUnder ??= hints is null || Name.Length == 0 || hints.WantsUnder(Name);

    /// <summary>
    /// The name the label is written under for the current entry; <paramref name="wanted"/> is false when
    /// <paramref name="hints"/> say no later stage reads it, <paramref name="shadowsStream"/> when the stream has it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public string Resolve(LineLabels labels, ParserHints? hints, out bool wanted, out bool shadowsStream)
    {
        if (ReferenceEquals(_resolvedFor, labels.StreamNames) && (_metadataIrrelevant || !labels.HasMetadata))
        {
            wanted = _wanted;
            shadowsStream = _shadowsStream;
            return _resolved;
        }

        return ResolveSlow(labels, hints, out wanted, out shadowsStream);
    }

    private string ResolveSlow(LineLabels labels, ParserHints? hints, out bool wanted, out bool shadowsStream)
    {
        if (!ReferenceEquals(_resolvedFor, labels.StreamNames))
        {
            _resolved = labels.StreamHas(Name) ? Suffixed : Name;
            _wanted = hints is null || hints.Wants(_resolved);
            _suffixedWanted = hints is null || hints.Wants(Suffixed);
            _shadowsStream = labels.StreamHas(_resolved);
            _metadataIrrelevant = !ReferenceEquals(_resolved, Name) || !(_wanted || _suffixedWanted);
            _resolvedFor = labels.StreamNames;
        }

        // Structured metadata of the entry can take the name too (as LineLabels.ParsedName checks); when no stage
        // reads either name, which one it is does not matter.
        if (labels.HasMetadata && ReferenceEquals(_resolved, Name) && (_wanted || _suffixedWanted) && labels.MetadataHas(Name))
        {
            var suffixed = Suffixed;
            wanted = _suffixedWanted;
            shadowsStream = labels.StreamHas(suffixed);
            return suffixed;
        }

        wanted = _wanted;
        shadowsStream = _shadowsStream;
        return _resolved;
    }

    private string Suffixed => _suffixed ??= Name + PipelineLabels.DuplicateSuffix;

    /// <summary>
    /// <see cref="LabelsResultCache.HashTerm"/> of the label, remembered for a repeated name and value, and per value
    /// slot for the values <see cref="Decode"/> reuses (status codes that alternate line by line).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int HashTerm(string name, string value)
    {
        if (!ReferenceEquals(name, _termName) || !ReferenceEquals(value, _termValue))
        {
            _term = SlotHashTerm(name, value);
            _termName = name;
            _termValue = value;
        }

        return _term;
    }

    private int SlotHashTerm(string name, string value)
    {
        var slot = _lastSlot;
        if (_valueTexts is not { } texts || !ReferenceEquals(texts[slot], value))
        {
            return LabelsResultCache.HashTerm(new LabelPair(name, value));
        }

        if (!ReferenceEquals(_slotTermNames![slot], name))
        {
            _slotTerms![slot] = LabelsResultCache.HashTerm(new LabelPair(name, value));
            _slotTermNames[slot] = name;
        }

        return _slotTerms![slot];
    }

    /// <summary>
    /// <see cref="LabelKeys.DecodeValue"/> of <paramref name="value"/>, reusing an earlier result when equal: a key's
    /// short values are remembered in a few slots by hash, so values that alternate (task names, messages, levels)
    /// are one string shared by every line and series that has them, not a copy per line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public string Decode(ReadOnlySpan<byte> value)
    {
        // A stream's lines often repeat the previous line's value (level, method, status): try its slot before hashing.
        var last = _lastSlot;
        if (_valueLengths is { } lengths && lengths[last] == value.Length &&
            ShortBytes.Equal(value, _valueBytes.AsSpan(last * MaxCachedValue, value.Length)))
        {
            return _valueTexts![last];
        }

        return DecodeSlow(value);
    }

    private string DecodeSlow(ReadOnlySpan<byte> value)
    {
        if (value.Length > MaxCachedValue)
        {
            return LabelKeys.DecodeValue(value);
        }

        if (_valueBytes is null)
        {
            _valueBytes = new byte[ValueSlots * MaxCachedValue];
            _valueLengths = new int[ValueSlots];
            _valueTexts = new string[ValueSlots];
            _slotTerms = new int[ValueSlots];
            _slotTermNames = new string?[ValueSlots];
            Array.Fill(_valueLengths, -1);
        }

        // A value is looked for in a few slots from its own, so a handful of alternating values (status codes) that
        // share a slot do not keep evicting each other, each eviction costing a decode and a string.
        var home = SlotOf(value);
        var free = -1;
        for (var probe = 0; probe < ValueProbes; probe++)
        {
            var slot = (home + probe) & (ValueSlots - 1);
            var length = _valueLengths![slot];
            if (length == value.Length && ShortBytes.Equal(value, _valueBytes.AsSpan(slot * MaxCachedValue, length)))
            {
                _lastSlot = slot;
                return _valueTexts![slot];
            }

            if (length < 0 && free < 0)
            {
                free = slot;
            }
        }

        var target = free >= 0 ? free : home;
        var text = LabelKeys.DecodeValue(value);
        value.CopyTo(_valueBytes.AsSpan(target * MaxCachedValue, MaxCachedValue));
        _valueLengths![target] = value.Length;
        _valueTexts![target] = text;
        _slotTermNames![target] = null;
        _lastSlot = target;
        return text;
    }

    // A value's slot from its length and a few of its bytes (first and last words): cheaper than hashing every byte,
    // and a collision only costs a decode.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SlotOf(ReadOnlySpan<byte> value)
    {
        ref var start = ref MemoryMarshal.GetReference(value);
        var n = value.Length;
        ulong bits;
        if (n >= sizeof(ulong))
        {
            var last = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, n - sizeof(ulong)));
            bits = Unsafe.ReadUnaligned<ulong>(ref start) ^ BitOperations.RotateLeft(last, 29);
        }
        else if (n >= sizeof(uint))
        {
            bits = ((ulong)Unsafe.ReadUnaligned<uint>(ref start) << 32) | Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, n - sizeof(uint)));
        }
        else
        {
            bits = n == 0 ? 0 : start | ((ulong)Unsafe.Add(ref start, n / 2) << 8) | ((ulong)Unsafe.Add(ref start, n - 1) << 16);
        }

        return (int)(((bits ^ (ulong)n) * 0x9E3779B97F4A7C15) >> 60) & (ValueSlots - 1);
    }
}

/// <summary>
/// The keys of the previous line by position (the n-th key met, with its nesting depth): lines of a stream mostly
/// repeat their keys in the same order, so a parser first compares a key with the one met at its position last time,
/// which costs neither hashing nor, for JSON, a search for the key's end. Buffers are reused: recording allocates
/// only when a longer key arrives.
/// </summary>
internal sealed class KeyPositions
{
    private const int Capacity = 64;
    private readonly Slot[] _slots = new Slot[Capacity];
    private int _count;

    public KeyPositions()
    {
        for (var i = 0; i < Capacity; i++)
        {
            _slots[i] = new Slot { Bytes = [], Length = -1 };
        }
    }

    /// <summary>Whether <paramref name="key"/> is the key recorded at <paramref name="position"/>; its entry if so (null when not resolved yet).</summary>
    public bool TryMatch(int position, ReadOnlySpan<byte> key, out ParsedKey? entry)
    {
        entry = null;
        if ((uint)position >= Capacity)
        {
            return false;
        }

        ref var slot = ref _slots[position];
        if (slot.Length != key.Length || !ShortBytes.Equal(key, slot.Bytes.AsSpan(0, key.Length)))
        {
            return false;
        }

        entry = slot.Entry;
        return true;
    }

    /// <summary>
    /// Whether <paramref name="data"/> holds, from <paramref name="start"/>, the key recorded at
    /// <paramref name="position"/> and <paramref name="depth"/> followed by <paramref name="terminator"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryMatchAt(int position, int depth, ReadOnlySpan<byte> data, int start, byte terminator, out ParsedKey? entry, out int length)
    {
        entry = null;
        length = 0;
        if ((uint)position >= Capacity)
        {
            return false;
        }

        ref var slot = ref _slots[position];
        var n = slot.Length;
        if (slot.Depth != depth || n < 0 || (uint)(start + n) >= (uint)data.Length || data[start + n] != terminator ||
            !ShortBytes.Equal(data.Slice(start, n), slot.Bytes.AsSpan(0, n)))
        {
            return false;
        }

        entry = slot.Entry;
        length = n;
        return true;
    }

    /// <summary>Records the key met at <paramref name="position"/> (an entry may follow through <see cref="SetEntry"/>).</summary>
    public void Record(int position, int depth, ReadOnlySpan<byte> key, ParsedKey? entry)
    {
        if ((uint)position >= Capacity)
        {
            return;
        }

        ref var slot = ref _slots[position];
        if (slot.Bytes.Length < key.Length)
        {
            slot.Bytes = new byte[Math.Max(32, key.Length)];
        }

        key.CopyTo(slot.Bytes);
        slot.Length = key.Length;
        slot.Depth = depth;
        slot.Entry = entry;
    }

    /// <summary>Forgets the key at <paramref name="position"/> (one that cannot be matched by its raw bytes).</summary>
    public void Forget(int position)
    {
        if ((uint)position < Capacity)
        {
            _slots[position].Length = -1;
        }
    }

    /// <summary>
    /// Ends a line that had <paramref name="count"/> keys: later positions held an older line's keys, whose paths need
    /// not follow from this line's, so they no longer match.
    /// </summary>
    public void EndLine(int count)
    {
        for (var i = count; i < _count && i < Capacity; i++)
        {
            _slots[i].Length = -1;
        }

        _count = count;
    }

    /// <summary>How many keys the last line had (see <see cref="EndLine"/>).</summary>
    public int Count => _count;

    /// <summary>Sets the entry of the key recorded at <paramref name="position"/>.</summary>
    public void SetEntry(int position, ParsedKey entry)
    {
        if ((uint)position < Capacity)
        {
            _slots[position].Entry = entry;
        }
    }

    private struct Slot
    {
        public byte[] Bytes;
        public int Length;
        public int Depth;
        public ParsedKey? Entry;
    }
}

/// <summary>Equality of short byte strings (keys, repeated values) without a call into the general span comparer.</summary>
internal static class ShortBytes
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool Equal(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var n = a.Length;
        if (n != b.Length)
        {
            return false;
        }

        ref var x = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        ref var y = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
        if (n >= sizeof(ulong))
        {
            // Two overlapping words cover 8..16 bytes.
            return n <= 2 * sizeof(ulong)
                ? Unsafe.ReadUnaligned<ulong>(ref x) == Unsafe.ReadUnaligned<ulong>(ref y) &&
                  Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref x, n - sizeof(ulong))) == Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref y, n - sizeof(ulong)))
                : a.SequenceEqual(b);
        }

        if (n >= sizeof(uint))
        {
            return Unsafe.ReadUnaligned<uint>(ref x) == Unsafe.ReadUnaligned<uint>(ref y) &&
                   Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref x, n - sizeof(uint))) == Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref y, n - sizeof(uint)));
        }

        for (var i = 0; i < n; i++)
        {
            if (Unsafe.Add(ref x, i) != Unsafe.Add(ref y, i))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A cheap, non-cryptographic hash for short keys and label texts (collisions are resolved by comparison).</summary>
internal static class FastHash
{
    private const ulong Prime = 0x100000001B3;

    public static int Of(ReadOnlySpan<byte> data)
    {
        var h = 0xCBF29CE484222325 ^ (ulong)data.Length;
        while (data.Length >= 8)
        {
            h = (h ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data)) * Prime;
            h ^= h >> 31;
            data = data[8..];
        }

        foreach (var b in data)
        {
            h = (h ^ b) * Prime;
        }

        return (int)(h ^ (h >> 32));
    }

    public static int Of(string s) => Of(System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.AsSpan()));
}

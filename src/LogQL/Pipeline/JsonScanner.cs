using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>The kind of a JSON value as the scanner sees it.</summary>
internal enum JsonKind
{
    String,
    Number,
    Boolean,
    Null,
    Object,
    Array,
}

/// <summary>
/// A forgiving, allocation-free JSON scanner with the acceptance rules and error texts of the JSON reader Loki uses
/// (grafana/jsonparser): values are delimited rather than validated, nested blocks are skipped by bracket counting,
/// and text after the top-level object is ignored.
/// </summary>
internal static class JsonScanner
{
    public const string MalformedJson = "Malformed JSON error";
    public const string MalformedString = "Value is string, but can't find closing '\"' symbol";
    public const string MalformedArray = "Value is array, but can't find closing ']' symbol";
    public const string MalformedObject = "Value looks like object, but can't find closing '}' symbol";
    public const string MalformedValue = "Value looks like Number/Boolean/None, but can't find its end: ',' or '}' symbol";
    public const string UnknownValueType = "Unknown value type";
    public const string MalformedStringEscape = "Encountered an invalid escape sequence in a string";

    /// <summary>
    /// Objects nested deeper than this (the line's own object is level 1) stop the walks that descend into them. Loki's
    /// parser has no such limit (Go's stack grows); ours guards the thread's fixed stack and caps the cost, which grows
    /// with depth times line length because each level's end is found by scanning it.
    /// </summary>
    public const int MaxNestingDepth = 128;

    /// <summary>The error text of a line nested deeper than <see cref="MaxNestingDepth"/> (ours: Loki has none).</summary>
    public const string TooDeep = "Value looks like object, but it is nested more than 128 levels deep";

    /// <summary>Index of the first non-blank byte at or after <paramref name="from"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NextToken(ReadOnlySpan<byte> data, int from)
    {
        for (var i = from; i < data.Length; i++)
        {
            if (data[i] is not ((byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary><see cref="StringEnd"/> with its most common case, a plain string ending in the first 16 bytes, inlined.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ShortStringEnd(ReadOnlySpan<byte> data, out bool escaped)
    {
        if (Vector128.IsHardwareAccelerated && data.Length >= Vector128<byte>.Count)
        {
            var block = Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(data));
            var quotes = Vector128.Equals(block, Vector128.Create((byte)'"')).ExtractMostSignificantBits();
            var backslashes = Vector128.Equals(block, Vector128.Create((byte)'\\')).ExtractMostSignificantBits();
            if ((quotes | backslashes) == 0)
            {
                // Neither in the first block: the search goes on after it.
                return StringEndFrom(data, Vector128<byte>.Count, out escaped);
            }

            // The first quote comes before any backslash.
            if (quotes != 0 && (backslashes == 0 || BitOperations.TrailingZeroCount(quotes) < BitOperations.TrailingZeroCount(backslashes)))
            {
                escaped = false;
                return BitOperations.TrailingZeroCount(quotes) + 1;
            }

            return StringEndFrom(data, BitOperations.TrailingZeroCount(backslashes), out escaped);
        }

        return StringEndFrom(data, 0, out escaped);
    }

    /// <summary>Length up to and including the closing quote of a string body starting at <paramref name="data"/>[0], or -1.</summary>
    public static int StringEnd(ReadOnlySpan<byte> data, out bool escaped) => StringEndFrom(data, 0, out escaped);

    // StringEnd with the bytes before from known to hold neither a quote nor a backslash.
    private static int StringEndFrom(ReadOnlySpan<byte> data, int from, out bool escaped)
    {
        escaped = false;
        // Keys and most values end within their first 16 bytes: one vector compare finds the quote (or a backslash,
        // which sends the rest to the escape-aware loop below).
        if (Vector128.IsHardwareAccelerated)
        {
            ref var start = ref MemoryMarshal.GetReference(data);
            while (from + Vector128<byte>.Count <= data.Length)
            {
                var block = Vector128.LoadUnsafe(ref start, (nuint)from);
                var hits = Vector128.Equals(block, Vector128.Create((byte)'"')) | Vector128.Equals(block, Vector128.Create((byte)'\\'));
                var mask = hits.ExtractMostSignificantBits();
                if (mask != 0)
                {
                    var at = from + BitOperations.TrailingZeroCount(mask);
                    if (data[at] == '"')
                    {
                        return at + 1;
                    }

                    from = at;
                    goto Escaped;
                }

                from += Vector128<byte>.Count;
            }
        }

        for (; from < data.Length; from++)
        {
            var b = data[from];
            if (b == '"')
            {
                return from + 1;
            }

            if (b == '\\')
            {
                break;
            }
        }

    Escaped:
        while (true)
        {
            var i = data[from..].IndexOfAny((byte)'"', (byte)'\\');
            if (i < 0)
            {
                return -1;
            }

            i += from;
            if (data[i] == '\\')
            {
                escaped = true;
                from = i + 1;
                if (from < data.Length && data[from] is (byte)'"' or (byte)'\\')
                {
                    // Skip the escaped character so an escaped quote does not end the string.
                    from++;
                }

                continue;
            }

            return i + 1;
        }
    }

    private static int BlockEnd(ReadOnlySpan<byte> data, byte open, byte close)
    {
        var level = 0;
        for (var i = 0; i < data.Length; i++)
        {
            var c = data[i];
            if (c == '"')
            {
                var se = StringEnd(data[(i + 1)..], out _);
                if (se < 0)
                {
                    return -1;
                }

                i += se;
            }
            else if (c == open)
            {
                level++;
            }
            else if (c == close && --level == 0)
            {
                return i + 1;
            }
        }

        return -1;
    }

    /// <summary>
    /// Reads the value starting at the first token at or after <paramref name="from"/>: its bytes (strings without
    /// quotes, still escaped), kind and the index after it. Returns an error text on failure.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static string? ReadValue(ReadOnlySpan<byte> data, int from, out int valueStart, out int valueLength, out JsonKind kind,
        out bool escaped, out int end)
    {
        valueStart = valueLength = end = 0;
        kind = JsonKind.Null;
        escaped = false;
        var offset = NextToken(data, from);
        if (offset < 0)
        {
            return MalformedJson;
        }

        switch (data[offset])
        {
            case (byte)'"':
                {
                    kind = JsonKind.String;
                    var se = ShortStringEnd(data[(offset + 1)..], out escaped);
                    if (se < 0)
                    {
                        return MalformedString;
                    }

                    valueStart = offset + 1;
                    valueLength = se - 1;
                    end = offset + 1 + se;
                    return null;
                }

            case (byte)'[':
            case (byte)'{':
                {
                    var isArray = data[offset] == '[';
                    kind = isArray ? JsonKind.Array : JsonKind.Object;
                    var be = isArray ? BlockEnd(data[offset..], (byte)'[', (byte)']') : BlockEnd(data[offset..], (byte)'{', (byte)'}');
                    if (be < 0)
                    {
                        return isArray ? MalformedArray : MalformedObject;
                    }

                    valueStart = offset;
                    valueLength = be;
                    end = offset + be;
                    return null;
                }

            default:
                {
                    // Numbers and literals are short: a table lookup per byte finds their end before a search call would.
                    var len = 0;
                    while (offset + len < data.Length && !IsTokenEnd(data[offset + len]))
                    {
                        len++;
                    }

                    var token = data.Slice(offset, len);
                    switch (data[offset])
                    {
                        case (byte)'t' or (byte)'f':
                            if (!token.SequenceEqual("true"u8) && !token.SequenceEqual("false"u8))
                            {
                                return UnknownValueType;
                            }

                            kind = JsonKind.Boolean;
                            break;
                        case (byte)'n' or (byte)'u':
                            if (!token.SequenceEqual("null"u8))
                            {
                                return UnknownValueType;
                            }

                            kind = JsonKind.Null;
                            break;
                        case >= (byte)'0' and <= (byte)'9':
                        case (byte)'-':
                            kind = JsonKind.Number;
                            break;
                        default:
                            return UnknownValueType;
                    }

                    valueStart = offset;
                    valueLength = len;
                    end = offset + len;
                    return null;
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsTokenEnd(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)',' or (byte)'}' or (byte)']';

    /// <summary>
    /// JSON string unescaping into <paramref name="output"/> (grown from the pool when needed). Returns false for an
    /// invalid escape. Lone surrogates become U+FFFD.
    /// </summary>
    public static bool Unescape(ReadOnlySpan<byte> input, ref byte[] output, out int written, bool allowApostrophe = false)
    {
        written = 0;
        if (output.Length < input.Length)
        {
            output = new byte[Math.Max(input.Length, output.Length * 2)];
        }

        var w = 0;
        for (var r = 0; r < input.Length; r++)
        {
            var c = input[r];
            if (c != '\\')
            {
                output[w++] = c;
                continue;
            }

            if (++r >= input.Length)
            {
                return false;
            }

            switch (input[r])
            {
                case (byte)'"': output[w++] = (byte)'"'; break;
                case (byte)'\\': output[w++] = (byte)'\\'; break;
                case (byte)'/': output[w++] = (byte)'/'; break;
                case (byte)'\'' when allowApostrophe: output[w++] = (byte)'\''; break;
                case (byte)'b': output[w++] = (byte)'\b'; break;
                case (byte)'f': output[w++] = (byte)'\f'; break;
                case (byte)'n': output[w++] = (byte)'\n'; break;
                case (byte)'r': output[w++] = (byte)'\r'; break;
                case (byte)'t': output[w++] = (byte)'\t'; break;
                case (byte)'u':
                    {
                        if (!TryHex4(input, r + 1, out var code))
                        {
                            return false;
                        }

                        r += 4;
                        int scalar = code;
                        if (char.IsHighSurrogate((char)code))
                        {
                            if (r + 6 < input.Length && input[r + 1] == '\\' && input[r + 2] == 'u' && TryHex4(input, r + 3, out var low) &&
                                char.IsLowSurrogate((char)low))
                            {
                                scalar = char.ConvertToUtf32((char)code, (char)low);
                                r += 6;
                            }
                            else
                            {
                                scalar = 0xFFFD;
                            }
                        }
                        else if (char.IsLowSurrogate((char)code))
                        {
                            scalar = 0xFFFD;
                        }

                        w += new Rune(scalar).EncodeToUtf8(output.AsSpan(w));
                        break;
                    }

                default:
                    return false;
            }
        }

        written = w;
        return true;
    }

    private static bool TryHex4(ReadOnlySpan<byte> s, int at, out int value)
    {
        value = 0;
        if (at + 4 > s.Length)
        {
            return false;
        }

        for (var i = 0; i < 4; i++)
        {
            var h = HexValue(s[at + i]);
            if (h < 0)
            {
                return false;
            }

            value = (value << 4) | h;
        }

        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>A string value as Loki stores it: unescaped, invalid UTF-8 as spaces, <c>""</c> on a bad escape.</summary>
    public static string DecodeString(ReadOnlySpan<byte> raw, bool escaped, ref byte[] scratch)
    {
        if (!escaped)
        {
            return LabelKeys.DecodeValue(raw);
        }

        return Unescape(raw, ref scratch, out var n) ? LabelKeys.DecodeValue(scratch.AsSpan(0, n)) : string.Empty;
    }

    /// <summary>UTF-8 to string without replacements (for texts that are valid by construction).</summary>
    public static string Utf8(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);

    /// <summary>
    /// Reads the object member at <paramref name="offset"/>: its key (unescaped into a new array when it has escapes)
    /// and its value's position and kind. Returns an error text for malformed JSON; otherwise null, with
    /// <paramref name="objectEnded"/> set when the closing brace came instead of a member.
    /// </summary>
    public static string? ReadMember(ReadOnlySpan<byte> data, scoped ref int offset, out ReadOnlySpan<byte> key, out int valueStart,
        out int valueLength, out JsonKind kind, out bool valueEscaped, out int valueEnd, out bool objectEnded)
    {
        key = default;
        valueStart = valueLength = valueEnd = 0;
        kind = default;
        valueEscaped = false;
        objectEnded = data[offset] == '}';
        if (objectEnded)
        {
            return null;
        }

        if (data[offset] != '"')
        {
            return MalformedObject;
        }

        offset++;
        var stringEnd = StringEnd(data[offset..], out var keyEscaped);
        if (stringEnd < 0)
        {
            return MalformedJson;
        }

        key = data.Slice(offset, stringEnd - 1);
        offset += stringEnd;
        if (keyEscaped)
        {
            var buffer = new byte[key.Length];
            if (!Unescape(key, ref buffer, out var length))
            {
                return MalformedStringEscape;
            }

            key = buffer.AsSpan(0, length);
        }

        return ReadMemberValue(data, offset, out valueStart, out valueLength, out kind, out valueEscaped, out valueEnd);
    }

    /// <summary>
    /// Reads a member's colon and value, from just after the key's closing quote (see <see cref="ReadMember"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static string? ReadMemberValue(ReadOnlySpan<byte> data, int afterKey, out int valueStart, out int valueLength, out JsonKind kind,
        out bool valueEscaped, out int valueEnd)
    {
        var offset = NextToken(data, afterKey);
        if (offset < 0 || data[offset] != ':')
        {
            valueStart = valueLength = valueEnd = 0;
            kind = default;
            valueEscaped = false;
            return MalformedJson;
        }

        return ReadValue(data, offset + 1, out valueStart, out valueLength, out kind, out valueEscaped, out valueEnd);
    }

    /// <summary>
    /// Moves past an object member's value to the next member's key. Returns an error text for malformed JSON;
    /// otherwise null, with <paramref name="objectEnded"/> set when the closing brace came instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static string? NextMember(ReadOnlySpan<byte> data, int valueEnd, out int offset, out bool objectEnded)
    {
        objectEnded = false;
        offset = NextToken(data, valueEnd);
        if (offset < 0)
        {
            return MalformedArray;
        }

        if (data[offset] == '}')
        {
            objectEnded = true;
            return null;
        }

        if (data[offset] != ',')
        {
            return MalformedObject;
        }

        offset = NextToken(data, offset + 1);
        return offset < 0 ? MalformedArray : null;
    }
}

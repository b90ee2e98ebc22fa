using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// A logfmt tokenizer with the acceptance rules and error texts of Loki's decoder: <c>key=value</c>, quoted values
/// with JSON-style escapes, bare keys, and syntax errors that skip to the next blank.
/// </summary>
internal ref struct LogfmtDecoder
{
    private readonly ReadOnlySpan<byte> _line;
    private int _pos;
    private byte[] _unquoted;

    public LogfmtDecoder(ReadOnlySpan<byte> line, byte[] unquoteBuffer)
    {
        _line = line;
        _unquoted = unquoteBuffer;
        Error = null;
        Key = default;
        Value = default;
    }

    public ReadOnlySpan<byte> Key { get; private set; }

    public ReadOnlySpan<byte> Value { get; private set; }

    public string? Error { get; private set; }

    public readonly bool EndOfLine => _pos >= _line.Length;

    public readonly byte[] Buffer => _unquoted;

    /// <summary>Scans the next pair; false when the pair is invalid (or only blanks remained).</summary>
    public bool ScanKeyValue()
    {
        Key = default;
        Value = default;
        var line = _line;
        var found = false;
        for (var p = _pos; p < line.Length; p++)
        {
            if (line[p] > ' ')
            {
                _pos = p;
                found = true;
                break;
            }
        }

        if (!found)
        {
            _pos = line.Length;
            return false;
        }

        var start = _pos;
        var multibyte = false;
        var hasKey = false;
        for (var p = SkipPlain(line, _pos, stopAtHighBytes: true); p < line.Length; p++)
        {
            var c = line[p];
            if (c == '=')
            {
                _pos = p;
                if (_pos > start)
                {
                    Key = line[start.._pos];
                    hasKey = true;
                    if (multibyte && ContainsInvalid(Key))
                    {
                        SyntaxError("invalid key");
                        return SkipValue();
                    }
                }

                if (!hasKey)
                {
                    UnexpectedByte(c);
                    return SkipValue();
                }

                return ScanValue();
            }

            if (c == '"')
            {
                _pos = p;
                UnexpectedByte(c);
                return SkipValue();
            }

            if (c <= ' ')
            {
                _pos = p;
                return EndBareKey(line, start, multibyte);
            }

            if (c >= 0x80)
            {
                multibyte = true;
            }
        }

        _pos = line.Length;
        return EndBareKey(line, start, multibyte);
    }

    // A key ended by a space or the end of the line, without a value: kept when not empty and valid UTF-8.
    private bool EndBareKey(ReadOnlySpan<byte> line, int start, bool multibyte)
    {
        if (_pos > start)
        {
            Key = line[start.._pos];
            if (multibyte && ContainsInvalid(Key))
            {
                SyntaxError("invalid key");
                return false;
            }
        }

        return true;
    }

    private bool ScanValue()
    {
        var line = _line;
        _pos++;
        if (_pos >= line.Length)
        {
            return true;
        }

        var first = line[_pos];
        if (first <= ' ')
        {
            return true;
        }

        if (first == '"')
        {
            return ScanQuoted();
        }

        var start = _pos;
        for (var p = SkipPlain(line, _pos, stopAtHighBytes: false); p < line.Length; p++)
        {
            var c = line[p];
            if (c is (byte)'=' or (byte)'"')
            {
                _pos = p;
                UnexpectedByte(c);
                return SkipValue();
            }

            if (c <= ' ')
            {
                _pos = p;
                Value = line[start.._pos];
                return true;
            }
        }

        _pos = line.Length;
        Value = line[start.._pos];
        return true;
    }

    /// <summary>
    /// The first index at or after <paramref name="from"/> of a byte the scanners act on (a blank or control byte,
    /// <c>=</c>, <c>"</c>, and with <paramref name="stopAtHighBytes"/> a non-ASCII byte), 16 bytes at a time; the
    /// last partial block is left to the caller's loop.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int SkipPlain(ReadOnlySpan<byte> line, int from, bool stopAtHighBytes)
    {
        if (!Vector128.IsHardwareAccelerated)
        {
            return from;
        }

        ref var start = ref MemoryMarshal.GetReference(line);
        while (from + Vector128<byte>.Count <= line.Length)
        {
            var block = Vector128.LoadUnsafe(ref start, (nuint)from);
            var stops = Vector128.LessThanOrEqual(block, Vector128.Create((byte)' ')) | Vector128.Equals(block, Vector128.Create((byte)'=')) |
                        Vector128.Equals(block, Vector128.Create((byte)'"'));
            if (stopAtHighBytes)
            {
                stops |= Vector128.GreaterThanOrEqual(block, Vector128.Create((byte)0x80));
            }

            var mask = stops.ExtractMostSignificantBits();
            if (mask != 0)
            {
                return from + BitOperations.TrailingZeroCount(mask);
            }

            from += Vector128<byte>.Count;
        }

        return from;
    }

    private bool ScanQuoted()
    {
        var line = _line;
        var start = _pos;
        // A backslash escapes the next byte, which is how a JSON string's end is found too.
        var length = JsonScanner.StringEnd(line[(start + 1)..], out var hasEscape);
        if (length < 0)
        {
            _pos = line.Length;
            SyntaxError("unterminated quoted value");
            return false;
        }

        _pos = start + 1 + length;
        if (hasEscape)
        {
            if (!Unquote(line[(start + 1)..(_pos - 1)], ref _unquoted, out var n))
            {
                SyntaxError("invalid quoted value");
                return false;
            }

            Value = _unquoted.AsSpan(0, n);
        }
        else
        {
            Value = line[(start + 1)..(_pos - 1)];
        }

        return true;
    }

    private bool SkipValue()
    {
        for (var p = _pos; p < _line.Length; p++)
        {
            if (_line[p] <= ' ')
            {
                _pos = p;
                return false;
            }
        }

        _pos = _line.Length;
        return false;
    }

    private void SyntaxError(string message) =>
        Error = "logfmt syntax error at pos " + (_pos + 1).ToString(CultureInfo.InvariantCulture) + " : " + message;

    private void UnexpectedByte(byte c) =>
        SyntaxError("unexpected " + GoQuoteByte(c));

    private static string GoQuoteByte(byte c) => c switch
    {
        (byte)'\'' => "'\\''",
        (byte)'\\' => "'\\\\'",
        _ => "'" + (char)c + "'",
    };

    private static bool ContainsInvalid(ReadOnlySpan<byte> s) => !System.Text.Unicode.Utf8.IsValid(s) || s.IndexOf("\uFFFD"u8) >= 0;

    // encoding/json's unquote rules, as Loki's logfmt decoder applies them (which also accept \').
    private static bool Unquote(ReadOnlySpan<byte> s, ref byte[] output, out int written) =>
        JsonScanner.Unescape(s, ref output, out written, allowApostrophe: true);
}

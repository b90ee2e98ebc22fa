using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

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

            if (c >= 0x80)
            {
                multibyte = true;
            }
        }

        _pos = line.Length;
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

/// <summary>
/// <c>| logfmt [--strict] [--keep-empty]</c>: every pair becomes a label (sanitised key). Invalid pairs are skipped, or
/// with <c>--strict</c> stop parsing and set <c>LogfmtParserErr</c>; empty values are dropped unless
/// <c>--keep-empty</c>.
/// </summary>
public sealed class LogfmtParserStep : PipelineStage
{
    private readonly bool _strict;
    private readonly bool _keepEmpty;
    private readonly ParserHints? _hints;
    private readonly KeyCache<ParsedKey> _keys = new();
    private readonly KeyPositions _positions = new();
    private byte[] _buffer = new byte[256];

    /// <summary>Creates the stage.</summary>
    public LogfmtParserStep(bool strict, bool keepEmpty)
        : this(strict, keepEmpty, null)
    {
    }

    internal LogfmtParserStep(bool strict, bool keepEmpty, ParserHints? hints)
    {
        _strict = strict;
        _keepEmpty = keepEmpty;
        _hints = hints;
    }

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        var decoder = new LogfmtDecoder(line, _buffer);
        var position = 0;
        while (!decoder.EndOfLine)
        {
            if (!decoder.ScanKeyValue())
            {
                if (_strict)
                {
                    break;
                }

                continue;
            }

            var parsed = Lookup(decoder.Key, position++);
            if (parsed.Name.Length == 0)
            {
                continue;
            }

            var key = parsed.Resolve(labels, _hints, out var wanted, out var shadowsStream);
            if (!wanted || labels.WasExtracted(key))
            {
                continue;
            }

            var value = decoder.Value;
            if (!_keepEmpty && value.IsEmpty)
            {
                continue;
            }

            var text = parsed.Decode(value);
            labels.SetExtracted(key, text, shadowsStream, parsed.HashTerm(key, text));
        }

        _buffer = decoder.Buffer;
        if (_strict && decoder.Error is { } error)
        {
            labels.SetError(PipelineLabels.LogfmtParserError, error);
        }

        return true;
    }

    private ParsedKey Lookup(ReadOnlySpan<byte> key, int position) =>
        _positions.TryMatch(position, key, out var entry) && entry is not null ? entry : LookupNew(key, position);

    // Kept out of line: inlined into the pair loop it made a line about 15 ns slower (measured), most likely through
    // the class-initialisation check its static delegate read brings along.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ParsedKey LookupNew(ReadOnlySpan<byte> key, int position)
    {
        var entry = _keys.Get(key, ParsedKey.Sanitized);
        _positions.Record(position, 0, key, entry);
        return entry;
    }
}

/// <summary>
/// <c>| logfmt a="key", b</c>: only the listed keys are extracted (under the listed names); listed labels always
/// exist, empty when the key is absent.
/// </summary>
public sealed class LogfmtExpressionParserStep : PipelineStage
{
    private readonly string[] _names;
    private readonly string[] _keys;
    private readonly bool _strict;
    private readonly KeyCache<string> _keyCache = new();
    private byte[] _buffer = new byte[256];

    internal LogfmtExpressionParserStep(string[] names, string[] keys, bool strict)
    {
        _names = names;
        _keys = keys;
        _strict = strict;
    }

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        foreach (var name in _names)
        {
            if (!labels.StreamHas(name) && !labels.MetadataHas(name))
            {
                labels.Set(LabelCategory.Parsed, name, string.Empty);
            }
        }

        var decoder = new LogfmtDecoder(line, _buffer);
        while (!decoder.EndOfLine)
        {
            if (!decoder.ScanKeyValue())
            {
                if (_strict)
                {
                    break;
                }

                continue;
            }

            var key = _keyCache.Get(decoder.Key, static k => LabelKeys.Sanitize(k));
            if (key.Length == 0)
            {
                continue;
            }

            var index = Array.IndexOf(_keys, key);
            if (index < 0)
            {
                continue;
            }

            var name = _names[index];
            var value = decoder.Value;
            var text = System.Text.Unicode.Utf8.IsValid(value) ? Encoding.UTF8.GetString(value) : string.Empty;
            if (labels.StreamHas(name) || labels.MetadataHas(name))
            {
                name += PipelineLabels.DuplicateSuffix;
                if (labels.WasExtracted(name))
                {
                    break;
                }
            }

            labels.Set(LabelCategory.Parsed, name, text);
        }

        _buffer = decoder.Buffer;
        if (_strict && decoder.Error is { } error)
        {
            labels.SetError(PipelineLabels.LogfmtParserError, error);
        }

        return true;
    }
}

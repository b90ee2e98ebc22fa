using System.Buffers;
using System.Text;

namespace LokiSharp.Ingester.Push;

/// <summary>
/// Lenient handling of JSON string text that System.Text.Json refuses to transcode: invalid UTF-8 bytes and
/// <c>\u</c> escapes of lone surrogates. Go, whose decoders Loki's clients are used to, takes both and reads them
/// as U+FFFD; a push is not failed for one bad byte.
/// </summary>
public static class JsonStrings
{
    private static readonly byte[] ReplacementEscape = "\\ufffd"u8.ToArray();

    /// <summary>
    /// Unescapes the raw text of a JSON string whose escapes the reader has already validated. Bytes that are not
    /// escapes are copied as they are (invalid UTF-8 included); a lone surrogate escape becomes U+FFFD.
    /// </summary>
    /// <returns>Bytes written; never more than <paramref name="escaped"/> is long.</returns>
    public static int Unescape(ReadOnlySpan<byte> escaped, Span<byte> destination)
    {
        var written = 0;
        var i = 0;
        while (i < escaped.Length)
        {
            var backslash = escaped[i..].IndexOf((byte)'\\');
            var run = backslash < 0 ? escaped.Length - i : backslash;
            escaped.Slice(i, run).CopyTo(destination[written..]);
            written += run;
            i += run;
            if (i >= escaped.Length)
            {
                break;
            }

            if (i + 1 >= escaped.Length)
            {
                // A trailing backslash cannot survive the reader's validation; keep it rather than fail.
                destination[written++] = (byte)'\\';
                break;
            }

            var code = escaped[i + 1];
            if (code != (byte)'u')
            {
                destination[written++] = code switch
                {
                    (byte)'b' => (byte)'\b',
                    (byte)'f' => (byte)'\f',
                    (byte)'n' => (byte)'\n',
                    (byte)'r' => (byte)'\r',
                    (byte)'t' => (byte)'\t',
                    _ => code,
                };
                i += 2;
                continue;
            }

            if (!TryHex4(escaped, i + 2, out var unit))
            {
                destination[written++] = (byte)'\\';
                i++;
                continue;
            }

            i += 6;
            var rune = Rune.ReplacementChar;
            if (char.IsHighSurrogate((char)unit))
            {
                if (i + 1 < escaped.Length && escaped[i] == (byte)'\\' && escaped[i + 1] == (byte)'u'
                    && TryHex4(escaped, i + 2, out var low) && char.IsLowSurrogate((char)low))
                {
                    rune = new Rune((char)unit, (char)low);
                    i += 6;
                }
            }
            else if (!char.IsLowSurrogate((char)unit))
            {
                rune = new Rune(unit);
            }

            written += rune.EncodeToUtf8(destination[written..]);
        }

        return written;
    }

    /// <summary>Unescapes like <see cref="Unescape"/>, then decodes with invalid UTF-8 read as U+FFFD.</summary>
    public static string UnescapeToString(ReadOnlySpan<byte> escaped)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(escaped.Length, 1));
        try
        {
            var length = Unescape(escaped, buffer);
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A copy of a JSON document with every lone surrogate escape replaced by <c>\ufffd</c> (the same length), or
    /// null when it has none. Backslashes only occur inside strings in valid JSON, so no string tracking is needed.
    /// </summary>
    public static byte[]? ReplaceLoneSurrogateEscapes(ReadOnlySpan<byte> json)
    {
        byte[]? copy = null;
        var i = json.IndexOf((byte)'\\');
        while (i >= 0 && i + 1 < json.Length)
        {
            if (json[i + 1] != (byte)'u' || !TryHex4(json, i + 2, out var unit))
            {
                i += 2;
            }
            else if (char.IsHighSurrogate((char)unit) && i + 11 < json.Length && json[i + 6] == (byte)'\\' && json[i + 7] == (byte)'u'
                     && TryHex4(json, i + 8, out var low) && char.IsLowSurrogate((char)low))
            {
                i += 12;
            }
            else if (char.IsSurrogate((char)unit))
            {
                copy ??= json.ToArray();
                ReplacementEscape.CopyTo(copy.AsSpan(i));
                i += 6;
            }
            else
            {
                i += 6;
            }

            var next = i < json.Length ? json[i..].IndexOf((byte)'\\') : -1;
            i = next < 0 ? -1 : i + next;
        }

        return copy;
    }

    private static bool TryHex4(ReadOnlySpan<byte> text, int start, out int value)
    {
        value = 0;
        if (start + 4 > text.Length)
        {
            return false;
        }

        for (var k = start; k < start + 4; k++)
        {
            var digit = HexDigit(text[k]);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        return true;
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}

using System.Buffers;
using System.Numerics;

namespace LokiSharp.Storage.Chunks;

/// <summary>
/// Writes the version-2 block payload (docs/formats/chunk.md, "Columnar block payload"): timestamp deltas as byte
/// planes, the metadata column, then the lines, split when possible into templates and a column of variables
/// (tokens holding a digit). Keeping random bytes out of the text lets the codec match line templates in long
/// runs, which is where the ratio comes from.
/// </summary>
internal sealed class ColumnarBlock : IDisposable
{
    /// <summary>Lines stored as varint lengths then the bytes back to back.</summary>
    public const byte LinesPlain = 0;

    /// <summary>Lines stored as templates (variables replaced by a marker byte) then the variables column.</summary>
    public const byte LinesTokenized = 1;

    /// <summary>Bytes that make up a token; a token holding an ASCII digit is a variable.</summary>
    public static readonly SearchValues<byte> TokenBytes =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._-"u8);

    // Terminator and marker candidates, none of them token bytes; the first absent from every line is used.
    private static readonly byte[] Terminators = [(byte)'\n', 0x1E];
    private static readonly byte[] Markers = [0x01, 0x1F];

    private readonly PooledBufferWriter _templates = new(64 * 1024);
    private readonly PooledBufferWriter _variables = new(16 * 1024);

    /// <summary>Writes one block's payload.</summary>
    /// <param name="output">Receives the raw (uncompressed) payload.</param>
    /// <param name="timestamps">Entry timestamps, non-decreasing, the first being the block's minimum.</param>
    /// <param name="metadata">Every entry's encoded structured metadata, back to back.</param>
    /// <param name="lines">Every entry's line, back to back.</param>
    /// <param name="lineLengths">Each line's length.</param>
    /// <param name="tokenize">
    /// Whether to split lines into templates and variables when possible: smaller once compressed, but readers
    /// then rebuild each line (about 1 ns per byte).
    /// </param>
    public void Write(IBufferWriter<byte> output, ReadOnlySpan<long> timestamps, ReadOnlySpan<byte> metadata,
        ReadOnlySpan<byte> lines, ReadOnlySpan<int> lineLengths, bool tokenize)
    {
        WriteTimestamps(output, timestamps);
        output.Write(metadata);
        var terminator = tokenize ? FirstAbsent(lines, Terminators) : -1;
        var marker = tokenize ? FirstAbsent(lines, Markers) : -1;
        if (terminator < 0 || marker < 0)
        {
            WriteByte(output, LinesPlain);
            foreach (var length in lineLengths)
            {
                Varint.Write(output, (ulong)length);
            }

            output.Write(lines);
            return;
        }

        _templates.Clear();
        _variables.Clear();
        var start = 0;
        foreach (var length in lineLengths)
        {
            Tokenize(lines.Slice(start, length), (byte)terminator, (byte)marker);
            start += length;
        }

        WriteByte(output, LinesTokenized);
        WriteByte(output, (byte)terminator);
        WriteByte(output, (byte)marker);
        Varint.Write(output, (ulong)_templates.WrittenCount);
        output.Write(_templates.WrittenSpan);
        output.Write(_variables.WrittenSpan);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _templates.Dispose();
        _variables.Dispose();
    }

    // One pass with a class table: tokens are short, so per-token vectorised searches would cost more than they
    // save. Template bytes between variables are copied as one run.
    private void Tokenize(ReadOnlySpan<byte> line, byte terminator, byte marker)
    {
        var classes = ByteClasses;
        var run = 0;
        var i = 0;
        while (i < line.Length)
        {
            if (classes[line[i]] == Delimiter)
            {
                i++;
                continue;
            }

            var start = i;
            var digits = false;
            byte c;
            while (i < line.Length && (c = classes[line[i]]) != Delimiter)
            {
                digits |= c == Digit;
                i++;
            }

            if (digits)
            {
                _templates.Write(line[run..start]);
                WriteByte(_templates, marker);
                _variables.Write(line[start..i]);
                WriteByte(_variables, terminator);
                run = i;
            }
        }

        _templates.Write(line[run..]);
        WriteByte(_templates, terminator);
    }

    private const byte Delimiter = 0;
    private const byte Digit = 2;

    // Per byte: Delimiter, 1 for the other token bytes, Digit for ASCII digits (TokenBytes, as a table).
    private static ReadOnlySpan<byte> ByteClasses => ByteClassTable;

    private static readonly byte[] ByteClassTable = BuildClasses();

    private static byte[] BuildClasses()
    {
        var table = new byte[256];
        for (var b = 0; b < 256; b++)
        {
            table[b] = b is >= '0' and <= '9' ? Digit : TokenBytes.Contains((byte)b) ? (byte)1 : Delimiter;
        }

        return table;
    }

    // varint divisor (the deltas' greatest common divisor, 1 when all are 0), u8 width, then width planes.
    private static void WriteTimestamps(IBufferWriter<byte> output, ReadOnlySpan<long> timestamps)
    {
        var n = timestamps.Length;
        ulong divisor = 0;
        ulong max = 0;
        for (var i = 1; i < n; i++)
        {
            var delta = (ulong)(timestamps[i] - timestamps[i - 1]);
            max = Math.Max(max, delta);
            if (divisor != 1 && delta != 0)
            {
                divisor = divisor == 0 ? delta : Gcd(divisor, delta);
            }
        }

        if (divisor == 0)
        {
            divisor = 1;
        }

        max /= divisor;
        var width = (71 - BitOperations.LeadingZeroCount(max)) / 8;
        Varint.Write(output, divisor);
        WriteByte(output, (byte)width);
        if (width == 0)
        {
            return;
        }

        var planes = output.GetSpan(n * width)[..(n * width)];
        for (var i = 1; i < n; i++)
        {
            var delta = (ulong)(timestamps[i] - timestamps[i - 1]) / divisor;
            for (var b = 0; b < width; b++)
            {
                planes[(b * n) + i] = (byte)(delta >> (8 * b));
            }
        }

        // Entry 0's delta (to the block minimum, which it is) is 0 in every plane.
        for (var b = 0; b < width; b++)
        {
            planes[b * n] = 0;
        }

        output.Advance(n * width);
    }

    private static ulong Gcd(ulong a, ulong b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    private static int FirstAbsent(ReadOnlySpan<byte> lines, byte[] candidates)
    {
        foreach (var candidate in candidates)
        {
            if (!lines.Contains(candidate))
            {
                return candidate;
            }
        }

        return -1;
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }
}

namespace LokiSharp.LogQL.Pipeline;

/// <summary><c>| decolorize</c>: strips ANSI escape sequences from the line.</summary>
public sealed class DecolorizeStep : PipelineStep
{
    private byte[] _buffer = new byte[512];

    /// <inheritdoc />
    public override bool RewritesLine => true;

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        // Fast path: nothing to strip unless ESC (0x1B) or the C1 CSI (U+009B, UTF-8 C2 9B) occurs.
        if (line.IndexOf((byte)0x1B) < 0 && line.IndexOf("\u009B"u8) < 0)
        {
            return true;
        }

        if (_buffer.Length < line.Length)
        {
            _buffer = new byte[line.Length * 2];
        }

        var w = 0;
        var i = 0;
        while (i < line.Length)
        {
            var introducer = line[i] == 0x1B ? 1 : (line[i] == 0xC2 && i + 1 < line.Length && line[i + 1] == 0x9B ? 2 : 0);
            if (introducer > 0)
            {
                var end = AnsiSequenceEnd(line, i + introducer);
                if (end > 0)
                {
                    i = end;
                    continue;
                }
            }

            _buffer[w++] = line[i++];
        }

        line = _buffer.AsSpan(0, w);
        return true;
    }

    // The sequence grammar Loki strips: [[\]()#;?]* then either an OSC-like "[A-Za-z0-9]*(;[A-Za-z0-9]*)* BEL" or a
    // CSI-like "(\d{1,4}(;\d{0,4})*)? final" with a final byte from [\dA-PRZcf-ntqry=><~]. Returns the end, or -1.
    private static int AnsiSequenceEnd(ReadOnlySpan<byte> s, int i)
    {
        while (i < s.Length && s[i] is (byte)'[' or (byte)']' or (byte)'(' or (byte)')' or (byte)'#' or (byte)';' or (byte)'?')
        {
            i++;
        }

        // First alternative: alphanumerics and semicolons terminated by BEL.
        var j = i;
        while (j < s.Length && (char.IsAsciiLetterOrDigit((char)s[j]) || s[j] == ';'))
        {
            j++;
        }

        if (j < s.Length && s[j] == 0x07)
        {
            return j + 1;
        }

        // Second alternative: up to four digits, then ;-separated groups of up to four digits, then a final byte.
        j = i;
        var digits = 0;
        while (j < s.Length && digits < 4 && char.IsAsciiDigit((char)s[j]))
        {
            j++;
            digits++;
        }

        if (digits > 0)
        {
            while (j < s.Length && s[j] == ';')
            {
                var k = j + 1;
                var d = 0;
                while (k < s.Length && d < 4 && char.IsAsciiDigit((char)s[k]))
                {
                    k++;
                    d++;
                }

                j = k;
            }
        }

        if (j < s.Length && IsFinal(s[j]))
        {
            return j + 1;
        }

        // Without parameters, a lone final byte right after the introducer still forms a sequence.
        return i < s.Length && IsFinal(s[i]) ? i + 1 : -1;
    }

    private static bool IsFinal(byte b) =>
        char.IsAsciiDigit((char)b) || (b >= 'A' && b <= 'P') || b == 'R' || b == 'Z' || b == 'c' || (b >= 'f' && b <= 'n') ||
        b is (byte)'q' or (byte)'r' or (byte)'t' or (byte)'y' or (byte)'=' or (byte)'>' or (byte)'<' or (byte)'~';
}

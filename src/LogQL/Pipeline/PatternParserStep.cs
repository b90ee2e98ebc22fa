using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// <c>| pattern "&lt;ip&gt; - &lt;_&gt; [&lt;ts&gt;]"</c>: a leading literal must start the line; each capture runs to the next
/// literal (or the end); a missing literal ends extraction with the capture taking the rest.
/// </summary>
public sealed class PatternParserStep : PipelineStep
{
    // Literal nodes are byte arrays, captures are keys (null for <_>); consecutive captures are rejected at build.
    private readonly byte[]? _leading;
    private readonly (ParsedKey? Key, byte[]? Following)[] _captures;

    // Captures after the last named one extract nothing, so the scan stops there.
    private readonly int _lastNamed;

    internal PatternParserStep(byte[]? leading, (string? Name, byte[]? Following)[] captures)
    {
        _leading = leading;
        _captures = new (ParsedKey?, byte[]?)[captures.Length];
        _lastNamed = -1;
        for (var i = 0; i < captures.Length; i++)
        {
            var (name, following) = captures[i];
            _captures[i] = (name is null ? null : new ParsedKey(name), following);
            if (name is not null)
            {
                _lastNamed = i;
            }
        }
    }

    /// <summary>The names of the named captures (<c>&lt;_&gt;</c> extracts nothing): the only labels the stage writes.</summary>
    internal override IEnumerable<string> LabelsWrittenIfInert
    {
        get
        {
            foreach (var (key, _) in _captures)
            {
                if (key is not null)
                {
                    yield return key.Name;
                }
            }
        }
    }

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        if (line.IsEmpty)
        {
            return true;
        }

        var rest = line;
        if (_leading is not null)
        {
            if (!rest.StartsWith(_leading))
            {
                return true;
            }

            rest = rest[_leading.Length..];
        }

        for (var c = 0; c <= _lastNamed; c++)
        {
            var (key, following) = _captures[c];
            var stop = Advance(ref rest, following, out var value);
            if (key is not null)
            {
                // As ParsedName/WasExtracted/Set would, with the name resolved once per stream and repeated values reused.
                var name = key.Resolve(labels, null, out _, out var shadowsStream);
                if (!labels.WasExtracted(name))
                {
                    var text = key.Decode(value);
                    labels.SetExtracted(name, text, shadowsStream, key.HashTerm(name, text));
                }
            }

            if (stop)
            {
                break;
            }
        }

        return true;
    }

    /// <summary>The number of captures (named or <c>&lt;_&gt;</c>).</summary>
    internal int CaptureCount => _captures.Length;

    /// <summary>The name of capture <paramref name="c"/>, null for <c>&lt;_&gt;</c>.</summary>
    internal string? CaptureName(int c) => _captures[c].Key?.Name;

    /// <summary>
    /// Where captures 0..<paramref name="last"/> lie in <paramref name="line"/>, found as <see cref="Process"/> finds them:
    /// start and length of each, start -1 for a capture the scan does not reach.
    /// </summary>
    internal void Locate(ReadOnlySpan<byte> line, int last, Span<int> starts, Span<int> lengths)
    {
        starts[..(last + 1)].Fill(-1);
        if (line.IsEmpty)
        {
            return;
        }

        var rest = line;
        if (_leading is not null)
        {
            if (!rest.StartsWith(_leading))
            {
                return;
            }

            rest = rest[_leading.Length..];
        }

        for (var c = 0; c <= last; c++)
        {
            var start = line.Length - rest.Length;
            var stop = Advance(ref rest, _captures[c].Following, out var value);
            starts[c] = start;
            lengths[c] = value.Length;
            if (stop)
            {
                return;
            }
        }
    }

    // One capture: up to its following literal, then past the literal; true when the capture took the rest (no literal
    // follows, or it is missing), which ends the scan.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Advance(ref ReadOnlySpan<byte> rest, byte[]? following, out ReadOnlySpan<byte> value)
    {
        // Most literals between captures are one byte (a space, a quote): the single-byte search is cheaper.
        var i = following is null ? -1 : following.Length == 1 ? IndexOfByte(rest, following[0]) : rest.IndexOf(following);
        if (i < 0)
        {
            value = rest;
            return true;
        }

        value = rest[..i];
        rest = rest[(i + following!.Length)..];
        return false;
    }

    private const ulong ByteOnes = 0x0101010101010101;

    // A single byte, looked for in the first word before the vectorised search: the text between two literals (a method,
    // a status code) is often shorter than a word, and a call to IndexOf costs more than the search there.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int IndexOfByte(ReadOnlySpan<byte> span, byte value)
    {
        if (span.Length < sizeof(ulong) || !BitConverter.IsLittleEndian)
        {
            return span.IndexOf(value);
        }

        var word = Unsafe.ReadUnaligned<ulong>(ref MemoryMarshal.GetReference(span)) ^ (ByteOnes * value);

        // A zero byte of word marks a match: the lowest set high bit of (w - 1s) & ~w & 0x80s is the first zero byte.
        var zeros = (word - ByteOnes) & ~word & (ByteOnes * 0x80);
        if (zeros != 0)
        {
            return BitOperations.TrailingZeroCount(zeros) >> 3;
        }

        var i = span[sizeof(ulong)..].IndexOf(value);
        return i < 0 ? -1 : i + sizeof(ulong);
    }
}

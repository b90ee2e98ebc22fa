namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// <c>| logfmt [--strict] [--keep-empty]</c>: every pair becomes a label (sanitised key). Invalid pairs are skipped, or
/// with <c>--strict</c> stop parsing and set <c>LogfmtParserErr</c>; empty values are dropped unless
/// <c>--keep-empty</c>.
/// </summary>
public sealed class LogfmtParserStep : PipelineStep
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

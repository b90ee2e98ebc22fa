using System.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// <c>| json</c>: every string, number and boolean leaf becomes a label named by its key path joined with <c>_</c>
/// (sanitised); arrays and nulls are skipped; invalid JSON, or objects nested deeper than
/// <see cref="MaxNestingDepth"/>, set <c>JSONParserErr</c>, keeping labels already found.
/// </summary>
public sealed class JsonParserStep : PipelineStep
{
    /// <summary>How deep objects may nest (the line's own object is level 1) before the line fails with <c>JSONParserErr</c>.</summary>
    public const int MaxNestingDepth = JsonScanner.MaxNestingDepth;

    private readonly ParserHints? _hints;
    private readonly EarlyFilterVerdict? _verdict;

    // Returned up the walk when the following filter drops the line (compared by reference).
    private static readonly string Dropped = new('-', 1);
    private static readonly Func<byte[], ParsedKey> ByPath = static path => new ParsedKey(NameOfPath(path));
    private readonly KeyCache<ParsedKey> _topKeys = new();
    // Nested keys are cached by their path: each key's length (4 bytes) then its bytes, from the outermost object.
    private readonly KeyCache<ParsedKey> _nestedKeys = new();
    private byte[] _path = new byte[128];
    private int _pathLength;
    private byte[] _scratch = new byte[256];
    private readonly KeyPositions _keys = new();
    // How many keys of the current line were met so far, and whether all matched the previous line's (KeyPositions).
    private int _position;
    private bool _onTrack;

    /// <summary>Creates the stage.</summary>
    public JsonParserStep()
        : this(null)
    {
    }

    internal JsonParserStep(ParserHints? hints, EarlyFilterVerdict? verdict = null)
    {
        _hints = hints;
        _verdict = verdict;
    }

    /// <summary>Whether the parser stops a line early for the label filter after it.</summary>
    public bool StopsEarly => _verdict is not null;

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        _pathLength = 0;
        _position = 0;
        _onTrack = true;
        var error = ParseObject(line, labels, depth: 0, extract: true);
        if (ReferenceEquals(error, Dropped))
        {
            // The keys after this one were not met: while the line matched the previous one so far, the previous
            // line's later keys still follow from the same path, so they stay.
            _keys.EndLine(_onTrack ? Math.Max(_position, _keys.Count) : _position);
            return false;
        }

        _keys.EndLine(_position);
        if (error is not null)
        {
            labels.SetError(PipelineLabels.JsonParserError, error);
        }

        return true;
    }

    // With extract false the object is only checked, so malformed input is reported as without hints.
    private string? ParseObject(ReadOnlySpan<byte> data, LineLabels labels, int depth, bool extract)
    {
        var offset = JsonScanner.NextToken(data, 0);
        if (offset < 0 || data[offset] != '{')
        {
            return JsonScanner.MalformedObject;
        }

        offset = JsonScanner.NextToken(data, offset + 1);
        if (offset < 0)
        {
            return JsonScanner.MalformedJson;
        }

        if (data[offset] == '}')
        {
            return null;
        }

        while (offset < data.Length)
        {
            // While every key so far matched the previous line's key at its position, this one is compared with its
            // counterpart in place; the path to it is then the same too, so so is its entry.
            var position = _position++;
            string? memberError;
            ReadOnlySpan<byte> keyBytes;
            int vStart, vLength, end;
            JsonKind kind;
            bool escaped;
            ParsedKey? parsed = null;
            if (_onTrack && data[offset] == '"' &&
                _keys.TryMatchAt(position, depth, data, offset + 1, (byte)'"', out parsed, out var keyLength))
            {
                keyBytes = data.Slice(offset + 1, keyLength);
                memberError = JsonScanner.ReadMemberValue(data, offset + keyLength + 2, out vStart, out vLength, out kind, out escaped, out end);
            }
            else
            {
                _onTrack = false;
                var keyStart = offset + 1;
                memberError = JsonScanner.ReadMember(data, ref offset, out keyBytes, out vStart, out vLength, out kind, out escaped, out end,
                    out var objectEnded);
                if (objectEnded)
                {
                    return memberError;
                }

                // A key read from escapes cannot be matched by its raw bytes.
                if (memberError is null && offset - keyStart - 1 == keyBytes.Length)
                {
                    _keys.Record(position, depth, keyBytes, null);
                }
                else
                {
                    _keys.Forget(position);
                }
            }

            if (memberError is not null)
            {
                return memberError;
            }

            var value = data.Slice(vStart, vLength);
            switch (kind)
            {
                case JsonKind.String or JsonKind.Number or JsonKind.Boolean:
                    if (extract && SetLeaf(parsed ?? LeafKey(keyBytes, depth, position), value, kind, escaped, labels))
                    {
                        return Dropped;
                    }

                    break;
                case JsonKind.Object:
                    {
                        // The walk recurses per level: a depth limit keeps a hostile line off the end of the stack.
                        if (depth + 2 > JsonScanner.MaxNestingDepth)
                        {
                            return JsonScanner.TooDeep;
                        }

                        var pathLength = _pathLength;
                        PushPathPart(keyBytes);
                        var nestedExtract = extract;
                        if (extract && _hints is not null)
                        {
                            parsed ??= Resolved(position, _nestedKeys.Get(Path, ByPath));
                            nestedExtract = parsed.WantsUnder(_hints);
                        }

                        var nested = ParseObject(value, labels, depth + 1, nestedExtract);
                        _pathLength = pathLength;
                        if (nested is not null)
                        {
                            return nested;
                        }

                        break;
                    }
            }

            var next = JsonScanner.NextMember(data, end, out offset, out var ended);
            if (next is not null || ended)
            {
                return next;
            }
        }

        return JsonScanner.MalformedObject;
    }

    // The entry of a leaf's key: top-level keys by their bytes, nested ones by their path.
    private ParsedKey LeafKey(ReadOnlySpan<byte> key, int depth, int position)
    {
        if (depth == 0)
        {
            return Resolved(position, _topKeys.Get(key, ParsedKey.Sanitized));
        }

        var pathLength = _pathLength;
        PushPathPart(key);
        var parsed = _nestedKeys.Get(Path, ByPath);
        _pathLength = pathLength;
        return Resolved(position, parsed);
    }

    private ParsedKey Resolved(int position, ParsedKey parsed)
    {
        _keys.SetEntry(position, parsed);
        return parsed;
    }

    private ReadOnlySpan<byte> Path => _path.AsSpan(0, _pathLength);

    private void PushPathPart(ReadOnlySpan<byte> key)
    {
        var needed = _pathLength + 4 + key.Length;
        if (_path.Length < needed)
        {
            Array.Resize(ref _path, Math.Max(needed, _path.Length * 2));
        }

        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_path.AsSpan(_pathLength), key.Length);
        key.CopyTo(_path.AsSpan(_pathLength + 4));
        _pathLength = needed;
    }

    // Key parts joined with '_' (blank parts skipped), each sanitised; only the first gets the digit prefix.
    private static string NameOfPath(byte[] path)
    {
        var sb = new StringBuilder(path.Length);
        var offset = 0;
        while (offset < path.Length)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(path.AsSpan(offset));
            var part = path.AsSpan(offset + 4, length);
            offset += 4 + length;
            if (LabelKeys.TrimGoSpace(part).IsEmpty)
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append('_');
            }

            LabelKeys.AppendSanitized(sb, part, prefixDigit: sb.Length == 0);
        }

        return sb.ToString();
    }

    // Returns whether the following filter now drops the line.
    private bool SetLeaf(ParsedKey parsed, ReadOnlySpan<byte> raw, JsonKind kind, bool escaped, LineLabels labels)
    {
        if (parsed.Name.Length == 0)
        {
            return false;
        }

        var name = parsed.Resolve(labels, _hints, out var wanted, out var shadowsStream);
        if (!wanted || labels.WasExtracted(name))
        {
            return false;
        }

        string text;
        if (kind == JsonKind.Boolean)
        {
            text = raw.SequenceEqual("true"u8) ? "true" : "false";
        }
        else if (escaped)
        {
            text = JsonScanner.Unescape(raw, ref _scratch, out var n) ? parsed.Decode(_scratch.AsSpan(0, n)) : string.Empty;
        }
        else
        {
            text = parsed.Decode(raw);
        }

        labels.SetExtracted(name, text, shadowsStream, parsed.HashTerm(name, text));
        return _verdict is not null && _verdict.Drops(name, labels);
    }
}

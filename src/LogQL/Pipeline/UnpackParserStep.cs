using System.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// <c>| unpack</c>: string members of a JSON object become labels, and <c>_entry</c> replaces the line; without
/// <c>_entry</c> nothing is extracted.
/// </summary>
public sealed class UnpackParserStep : PipelineStep
{
    private readonly KeyCache<string> _keys = new();
    private readonly List<(string Name, string Value)> _pending = [];
    private byte[] _scratch = new byte[256];
    private byte[] _entry = new byte[256];

    /// <inheritdoc />
    public override bool RewritesLine => true;

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        if (line.IsEmpty)
        {
            return true;
        }

        if (line[0] != '{')
        {
            labels.SetError(PipelineLabels.JsonParserError, "expecting json object(6), but it is not");
            return true;
        }

        _pending.Clear();
        var error = Unpack(line, labels, out var entryLength, out var packed);
        if (error is not null)
        {
            labels.SetError(PipelineLabels.JsonParserError, error);
            return true;
        }

        if (packed)
        {
            foreach (var (name, value) in _pending)
            {
                labels.Set(LabelCategory.Parsed, name, value);
            }

            line = _entry.AsSpan(0, entryLength);
        }

        return true;
    }

    private string? Unpack(ReadOnlySpan<byte> data, LineLabels labels, out int entryLength, out bool packed)
    {
        entryLength = 0;
        packed = false;
        var offset = JsonScanner.NextToken(data, 1);
        if (offset < 0)
        {
            return JsonScanner.MalformedJson;
        }

        while (offset < data.Length)
        {
            var memberError = JsonScanner.ReadMember(data, ref offset, out var key, out var vStart, out var vLength, out var kind,
                out var escaped, out var end, out var objectEnded);
            if (memberError is not null || objectEnded)
            {
                return memberError;
            }

            if (kind == JsonKind.String)
            {
                var raw = data.Slice(vStart, vLength);
                if (key.SequenceEqual("_entry"u8))
                {
                    if (escaped)
                    {
                        if (!JsonScanner.Unescape(raw, ref _entry, out entryLength))
                        {
                            return JsonScanner.MalformedStringEscape;
                        }
                    }
                    else
                    {
                        if (_entry.Length < raw.Length)
                        {
                            _entry = new byte[raw.Length * 2];
                        }

                        raw.CopyTo(_entry);
                        entryLength = raw.Length;
                    }

                    packed = true;
                }
                else
                {
                    var name = labels.ParsedName(_keys.Get(key, static k => Encoding.UTF8.GetString(k)));
                    if (!labels.WasExtracted(name))
                    {
                        _pending.Add((LabelKeys.Sanitize(name), JsonScanner.DecodeString(raw, escaped, ref _scratch)));
                    }
                }
            }

            var next = JsonScanner.NextMember(data, end, out offset, out objectEnded);
            if (next is not null || objectEnded)
            {
                return next;
            }
        }

        return JsonScanner.MalformedObject;
    }
}

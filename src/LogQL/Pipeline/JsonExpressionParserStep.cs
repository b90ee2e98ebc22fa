namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// <c>| json a="b.c[0]"</c>: each listed label takes the value at its path (objects and arrays as JSON text, null and
/// missing paths as <c>""</c>); a line that does not start like JSON sets <c>JSONParserErr</c>.
/// </summary>
public sealed class JsonExpressionParserStep : PipelineStep
{
    private readonly string[] _names;
    private readonly JsonPathSegment[][] _paths;
    private byte[] _scratch = new byte[256];

    internal JsonExpressionParserStep(string[] names, JsonPathSegment[][] paths)
    {
        _names = names;
        _paths = paths;
    }

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        if (line.IsEmpty)
        {
            return true;
        }

        if (line[0] is not ((byte)'"' or (byte)'{' or (byte)'['))
        {
            labels.SetError(PipelineLabels.JsonParserError, null);
            return true;
        }

        var missing = false;
        for (var i = 0; i < _names.Length; i++)
        {
            var error = JsonPath.Find(line, _paths[i], out var start, out var length, out var kind, out var escaped, out var found);
            if (error is not null)
            {
                labels.SetError(PipelineLabels.JsonParserError, error);
                missing = true;
                continue;
            }

            if (!found)
            {
                missing = true;
                continue;
            }

            var name = labels.ParsedName(_names[i]);
            var raw = line.Slice(start, length);
            var value = kind switch
            {
                JsonKind.Null => string.Empty,
                JsonKind.Object => LabelKeys.DecodeValue(raw),
                JsonKind.String => JsonScanner.DecodeString(raw, escaped, ref _scratch),
                _ => JsonScanner.DecodeString(raw, raw.Contains((byte)'\\'), ref _scratch),
            };
            labels.Set(LabelCategory.Parsed, name, value);
        }

        if (missing)
        {
            foreach (var name in _names)
            {
                if (labels.Get(name) is null)
                {
                    labels.Set(LabelCategory.Parsed, name, string.Empty);
                }
            }
        }

        return true;
    }
}

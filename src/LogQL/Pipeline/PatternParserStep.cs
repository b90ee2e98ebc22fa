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
            ReadOnlySpan<byte> value;
            var stop = false;
            // Most literals between captures are one byte (a space, a quote): the single-byte search is cheaper.
            var i = following is null ? -1 : following.Length == 1 ? rest.IndexOf(following[0]) : rest.IndexOf(following);
            if (i < 0)
            {
                value = rest;
                stop = true;
            }
            else
            {
                value = rest[..i];
                rest = rest[(i + following!.Length)..];
            }

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
}

using System.Text;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// <c>| logfmt a="key", b</c>: only the listed keys are extracted (under the listed names); listed labels always
/// exist, empty when the key is absent.
/// </summary>
public sealed class LogfmtExpressionParserStep : PipelineStep
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

using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>Template data over an entry's current labels, error labels included.</summary>
internal sealed class LiveLabelData : ITemplateData
{
    public LineLabels? Labels { get; set; }

    public string? Get(string name) => name switch
    {
        PipelineLabels.Error => Labels!.Error.Length > 0 ? Labels.Error : null,
        PipelineLabels.ErrorDetails => Labels!.ErrorDetails.Length > 0 ? Labels.ErrorDetails : null,
        _ => Labels!.Get(name),
    };

    public IEnumerable<KeyValuePair<string, string>> Pairs =>
        Labels!.Snapshot().ToArray().Select(static p => new KeyValuePair<string, string>(p.Name, p.Value));
}

/// <summary>Template data over a copy of the labels taken when a <c>label_format</c> stage's first template runs.</summary>
internal sealed class SnapshotLabelData : ITemplateData
{
    private LabelPair[] _pairs = new LabelPair[16];
    private int _count;

    public bool IsEmpty => _count == 0;

    public void Capture(LineLabels labels)
    {
        var snapshot = labels.Snapshot();
        if (_pairs.Length < snapshot.Length)
        {
            _pairs = new LabelPair[snapshot.Length * 2];
        }

        snapshot.CopyTo(_pairs);
        _count = snapshot.Length;
    }

    public void Clear() => _count = 0;

    public string? Get(string name)
    {
        for (var i = _count - 1; i >= 0; i--)
        {
            if (_pairs[i].Name == name)
            {
                return _pairs[i].Value;
            }
        }

        return null;
    }

    public IEnumerable<KeyValuePair<string, string>> Pairs =>
        _pairs.Take(_count).Select(static p => new KeyValuePair<string, string>(p.Name, p.Value));
}

/// <summary>Keeps a copy of the current line for templates that call <c>__line__</c>.</summary>
internal sealed class LineHolder
{
    private byte[] _bytes = new byte[256];
    private int _length;

    public void Set(ReadOnlySpan<byte> line)
    {
        if (_bytes.Length < line.Length)
        {
            _bytes = new byte[line.Length * 2];
        }

        line.CopyTo(_bytes);
        _length = line.Length;
    }

    public string Decode() => Encoding.UTF8.GetString(_bytes, 0, _length);
}

/// <summary>
/// <c>| line_format "tmpl"</c>: replaces the line with the template's output; an execution error sets
/// <c>TemplateFormatErr</c> and keeps the line. A template that is exactly <c>{{.name}}</c> copies the value.
/// </summary>
public sealed class LineFormatStep : PipelineStage
{
    private readonly GoTemplate _template;
    private readonly bool _usesLine;
    private readonly LiveLabelData _data = new();
    private readonly TemplateContext _context = new();
    private readonly LineHolder _line = new();
    private readonly StringBuilder _output = new(256);
    private byte[] _buffer = new byte[512];

    // The template as UTF-8 text parts and label names when it is only text and {{.name}} actions.
    private readonly (byte[] Text, string? Field)[]? _parts;

    private LineFormatStep(GoTemplate template, bool usesLine)
    {
        _template = template;
        _usesLine = usesLine;
        _context.SetLine(_line.Decode);
        if (template.TextAndFields is { } parts)
        {
            _parts = new (byte[], string?)[parts.Length];
            for (var i = 0; i < parts.Length; i++)
            {
                _parts[i] = (Encoding.UTF8.GetBytes(parts[i].Text), parts[i].Field);
            }
        }
    }

    /// <inheritdoc />
    public override bool RewritesLine => true;

    internal static LineFormatStep Create(LineFormatStage stage)
    {
        try
        {
            return new LineFormatStep(GoTemplate.Parse("line", stage.Template), stage.Template.Contains("__line__", StringComparison.Ordinal));
        }
        catch (TemplateParseException e)
        {
            throw PipelineBuildError.Create(stage.ToString(), "invalid line template: " + e.Message);
        }
    }

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        if (_template.SimpleField is { } field)
        {
            line = Encode(labels.Get(field) ?? string.Empty);
            return true;
        }

        var limit = TemplateLimits.OutputLimit(line.Length);
        if (_parts is not null && Concatenate(labels, limit, out var concatenated))
        {
            line = concatenated;
            return true;
        }

        _output.Clear();
        _data.Labels = labels;
        _context.TimestampNs = timestampNs;
        _context.OutputLimit = limit;
        if (_usesLine)
        {
            _line.Set(line);
            _context.SetLine(_line.Decode);
        }

        try
        {
            _template.Execute(_output, _data, _context);
        }
        catch (TemplateExecutionException e)
        {
            labels.SetError(PipelineLabels.TemplateFormatError, e.Message);
            return true;
        }

        line = Encode(_output);
        return true;
    }

    // False when the output passes the limit (a field repeated many times): the interpreter then decides and reports
    // it. Bytes are compared with the limit in characters, as there are never fewer; a field is checked before it
    // is copied, the text parts (from the query) once at the end.
    private bool Concatenate(LineLabels labels, int limit, out ReadOnlySpan<byte> output)
    {
        output = default;
        _data.Labels = labels;
        var written = 0;
        foreach (var (text, field) in _parts!)
        {
            if (field is null)
            {
                Reserve(written + text.Length);
                text.CopyTo(_buffer, written);
                written += text.Length;
                continue;
            }

            var value = _data.Get(field) ?? string.Empty;
            if (written + value.Length > limit)
            {
                return false;
            }

            Reserve(written + Encoding.UTF8.GetMaxByteCount(value.Length));
            written += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(written));
        }

        if (written > limit)
        {
            return false;
        }

        output = _buffer.AsSpan(0, written);
        return true;
    }

    private void Reserve(int length)
    {
        if (_buffer.Length < length)
        {
            Array.Resize(ref _buffer, Math.Max(length, _buffer.Length * 2));
        }
    }

    private ReadOnlySpan<byte> Encode(string value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_buffer.Length < max)
        {
            _buffer = new byte[max];
        }

        return _buffer.AsSpan(0, Encoding.UTF8.GetBytes(value, _buffer));
    }

    private ReadOnlySpan<byte> Encode(StringBuilder value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_buffer.Length < max)
        {
            _buffer = new byte[max];
        }

        var written = 0;
        foreach (var chunk in value.GetChunks())
        {
            written += Encoding.UTF8.GetBytes(chunk.Span, _buffer.AsSpan(written));
        }

        return _buffer.AsSpan(0, written);
    }
}

/// <summary>
/// <c>| label_format dst=src, dst="tmpl"</c>: renames (source removed; no-op when absent) and template-set labels,
/// left to right. Templates see the labels as they were when the stage's first template ran.
/// </summary>
public sealed class LabelFormatStep : PipelineStage
{
    private readonly (string Name, string? Source, GoTemplate? Template)[] _items;
    private readonly bool _usesLine;
    private readonly SnapshotLabelData _data = new();
    private readonly TemplateContext _context = new();
    private readonly LineHolder _line = new();
    private readonly StringBuilder _output = new(64);

    private LabelFormatStep((string, string?, GoTemplate?)[] items, bool usesLine)
    {
        _items = items;
        _usesLine = usesLine;
        _context.SetLine(_line.Decode);
    }

    internal static LabelFormatStep Create(LabelFormatStage stage)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var items = new List<(string, string?, GoTemplate?)>();
        var usesLine = false;
        foreach (var item in stage.Items)
        {
            if (item.Name == PipelineLabels.Error)
            {
                throw PipelineBuildError.Create(stage.ToString(), item.Name + " cannot be formatted");
            }

            if (!seen.Add(item.Name))
            {
                throw PipelineBuildError.Create(stage.ToString(), "multiple label name '" + item.Name + "' not allowed in a single format operation");
            }

            if (item.IsRename)
            {
                items.Add((item.Name, item.Value, null));
                continue;
            }

            try
            {
                items.Add((item.Name, null, GoTemplate.Parse("label", item.Value)));
                usesLine |= item.Value.Contains("__line__", StringComparison.Ordinal);
            }
            catch (TemplateParseException e)
            {
                throw PipelineBuildError.Create(stage.ToString(), "invalid template for label '" + item.Name + "': " + e.Message);
            }
        }

        return new LabelFormatStep([.. items], usesLine);
    }

    /// <inheritdoc />
    public override bool Process(long timestampNs, ref ReadOnlySpan<byte> line, LineLabels labels)
    {
        _data.Clear();
        _context.TimestampNs = timestampNs;
        _context.OutputLimit = TemplateLimits.OutputLimit(line.Length);
        if (_usesLine)
        {
            _line.Set(line);
            _context.SetLine(_line.Decode);
        }

        foreach (var (name, source, template) in _items)
        {
            if (template is null)
            {
                var value = labels.Get(source!);
                if (value is not null)
                {
                    labels.Set(LabelCategory.Parsed, name, value);
                    labels.Delete(source!);
                }

                continue;
            }

            if (_data.IsEmpty)
            {
                _data.Capture(labels);
            }

            _output.Clear();
            try
            {
                template.Execute(_output, _data, _context);
            }
            catch (TemplateExecutionException e)
            {
                labels.SetError(PipelineLabels.TemplateFormatError, e.Message);
                continue;
            }

            labels.Set(LabelCategory.Parsed, name, _output.ToString());
        }

        return true;
    }
}

using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// <c>| line_format "tmpl"</c>: replaces the line with the template's output; an execution error sets
/// <c>TemplateFormatErr</c> and keeps the line. A template that is exactly <c>{{.name}}</c> copies the value.
/// </summary>
public sealed class LineFormatStep : PipelineStep
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

    internal static LineFormatStep Create(LineFormatExpr stage)
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

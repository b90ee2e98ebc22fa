using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>
/// <c>| label_format dst=src, dst="tmpl"</c>: renames (source removed; no-op when absent) and template-set labels,
/// left to right. Templates see the labels as they were when the stage's first template ran.
/// </summary>
public sealed class LabelFormatStep : PipelineStep
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

    internal static LabelFormatStep Create(LabelFormatExpr stage)
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

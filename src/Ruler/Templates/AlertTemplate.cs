using System.Text;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.Ruler.Templates;

/// <summary>
/// One label or annotation template of an alerting rule, expanded per alert as Prometheus does
/// (<c>rules/alerting.go</c>, <c>template/template.go</c>): Prometheus' convenience variables are declared in front
/// of the text, the template is named <c>__alert_NAME</c>, missing keys read as zero, and a failure becomes the
/// text <c>&lt;error expanding template: ...&gt;</c> instead of failing the rule.
/// </summary>
public sealed class AlertTemplate
{
    // What Prometheus declares in front of every label and annotation when it evaluates the rule.
    private const string EvaluationDefinitions =
        "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

    // Loki's validation (compat.go testTemplateParsing) declares no $externalURL, so a template using it is refused.
    private const string ValidationDefinitions = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}";

    private readonly string _name;
    private readonly GoTemplate? _template;
    private readonly string? _parseError;

    private AlertTemplate(string name, GoTemplate? template, string? parseError)
    {
        _name = name;
        _template = template;
        _parseError = parseError;
    }

    /// <summary>Loki's check of a template when a rule is loaded: null, or Go's parse error.</summary>
    public static string? ValidationError(string alertName, string text)
    {
        try
        {
            GoTemplate.Parse("__alert_" + alertName, ValidationDefinitions + text, PrometheusTemplateFunctions.Table);
            return null;
        }
        catch (TemplateParseException e)
        {
            return e.Message;
        }
    }

    /// <summary>Parses <paramref name="text"/> once for every expansion; a parse error shows in each expansion.</summary>
    public static AlertTemplate Parse(string alertName, string text)
    {
        var name = "__alert_" + alertName;
        try
        {
            return new AlertTemplate(name, GoTemplate.Parse(name, EvaluationDefinitions + text, PrometheusTemplateFunctions.Table), null);
        }
        catch (TemplateParseException e)
        {
            return new AlertTemplate(name, null, e.Message);
        }
    }

    /// <summary>The expanded text, or <c>&lt;error expanding template: ...&gt;</c> with Go's error.</summary>
    public string Expand(AlertTemplateData data)
    {
        if (_template is null)
        {
            return "<error expanding template: error parsing template " + _name + ": " + _parseError + ">";
        }

        var output = new StringBuilder();
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["Labels"] = new LabelSetTemplateData(data.Labels),
            ["ExternalLabels"] = new LabelSetTemplateData(data.ExternalLabels),
            ["ExternalURL"] = data.ExternalUrl,
            ["Value"] = data.Value,
        };
        var context = new TemplateContext
        {
            TimestampNs = (data.Time - DateTimeOffset.UnixEpoch).Ticks * 100,
            State = data,
        };
        try
        {
            _template.Execute(output, fields, context);
            return output.ToString();
        }
        catch (TemplateExecutionException e)
        {
            return "<error expanding template: error executing template " + _name + ": " + e.Message + ">";
        }
    }

    /// <inheritdoc />
    public override string ToString() => _name + (_parseError is null ? string.Empty : " (" + _parseError + ")");
}

using LokiSharp.LogQL.Labels;
using LokiSharp.Ruler.Alerting;

namespace LokiSharp.Ruler.Templates;

/// <summary>
/// What an alert's label and annotation templates see (Prometheus' <c>template.AlertTemplateData</c>): the series'
/// labels, the external labels and URL, the sample value; plus the evaluation time (<c>now</c>) and the query
/// function behind <c>query</c> (null: <c>query</c> fails).
/// </summary>
public sealed record AlertTemplateData(
    LabelSet Labels,
    LabelSet ExternalLabels,
    string ExternalUrl,
    double Value,
    DateTimeOffset Time,
    RuleQuery? Query = null);

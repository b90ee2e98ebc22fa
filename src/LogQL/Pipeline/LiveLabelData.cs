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

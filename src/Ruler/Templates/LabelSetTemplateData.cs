using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.Ruler.Templates;

/// <summary>A label set as a template's <c>map[string]string</c>: <c>$labels.pod</c>, missing names read as <c>""</c>.</summary>
internal sealed class LabelSetTemplateData(LabelSet labels) : ITemplateData
{
    public string? Get(string name) => labels.Get(name);

    public IEnumerable<KeyValuePair<string, string>> Pairs
    {
        get
        {
            foreach (var pair in labels)
            {
                yield return new(pair.Name, pair.Value);
            }
        }
    }
}

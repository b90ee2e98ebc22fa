using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.LogQL.Pipeline;

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

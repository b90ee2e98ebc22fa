using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// The spilled parts of a head read that the search's sieve ruled out, every one: no entries, and the skips a reader of
/// those parts would count, counted as that reader would, once it is first advanced (it reaches every part then).
/// </summary>
internal sealed class RuledOutPartsIterator(ReadStats ruledOut) : IEntryIterator
{
    private bool _counted;

    public LogEntry Current => default;

    public ReadStats Stats { get; } = new();

    public IReadOnlyList<string> Warnings => [];

    public bool MoveNext()
    {
        if (!_counted)
        {
            _counted = true;
            Stats.Add(ruledOut);
        }

        return false;
    }

    public void Dispose()
    {
    }
}

using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>
/// The spilled parts of a head read that the search's sieve ruled out, every one: no entries, and the skips a reader of
/// those parts would count, counted as that reader would: once it is first advanced (it reaches every part then), and
/// into <see cref="BlockReadTotals"/> when disposed.
/// </summary>
internal sealed class RuledOutPartsIterator(ReadStats ruledOut) : IEntryIterator
{
    private bool _counted;
    private bool _disposed;

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

    /// <summary>Adds what it counted to the process-wide totals, as a finished chunk reader does.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            BlockReadTotals.Add(Stats);
        }
    }
}

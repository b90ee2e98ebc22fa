using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Ingester.Head;

/// <summary>Entries of spilled head parts; disposing it ends the read, so their spill files may close.</summary>
internal sealed class SpilledEntryIterator(IEntryIterator inner, HeadReadSet parts) : IEntryIterator
{
    private bool _disposed;

    public LogEntry Current => inner.Current;

    public ReadStats Stats => inner.Stats;

    public IReadOnlyList<string> Warnings => inner.Warnings;

    public bool MoveNext() => inner.MoveNext();

    public bool HandsOutRuns => inner.HandsOutRuns;

    public bool TryTakeRun(long before, out EntryRun run) => inner.TryTakeRun(before, out run);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        inner.Dispose();
        parts.EndRead();
    }
}

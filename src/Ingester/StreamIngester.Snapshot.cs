namespace LokiSharp.Ingester;

/// <content>Online snapshots: the WAL and the chunk store copied with flushes held back.</content>
public sealed partial class StreamIngester
{
    /// <summary>
    /// Copies the WAL (into <paramref name="walDestination"/>) and the chunk store (into
    /// <paramref name="storeDestination"/>) as they stand, with flushes held back meanwhile, so every entry
    /// acknowledged before the call is in one or the other and no WAL segment it needs is dropped half way.
    /// Returns the bytes copied rather than linked.
    /// </summary>
    public async Task<long> SnapshotAsync(string walDestination, string storeDestination, CancellationToken cancellationToken)
    {
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long copied = 0;
            if (_wal is not null)
            {
                Directory.CreateDirectory(walDestination);
                copied += _wal.SnapshotTo(walDestination);
            }

            Directory.CreateDirectory(storeDestination);
            return copied + _store.SnapshotTo(storeDestination);
        }
        finally
        {
            _flushLock.Release();
        }
    }
}

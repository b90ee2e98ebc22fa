namespace LokiSharp.Storage.Reading;

/// <summary>
/// A bound, in bytes, on the chunk tails (block tables and filters) kept in memory so that repeated line-filtered
/// searches judge a chunk without a read. Thread-safe.
/// </summary>
/// <param name="maxBytes">The most the tails it admits may hold together.</param>
public sealed class ChunkTailBudget(long maxBytes)
{
    private long _bytes;

    /// <summary>Takes <paramref name="bytes"/> when they fit; false (nothing taken) when they do not.</summary>
    public bool TryTake(long bytes)
    {
        if (Interlocked.Add(ref _bytes, bytes) <= maxBytes)
        {
            return true;
        }

        Interlocked.Add(ref _bytes, -bytes);
        return false;
    }

    /// <summary>Gives back bytes taken with <see cref="TryTake"/>.</summary>
    public void Give(long bytes) => Interlocked.Add(ref _bytes, -bytes);
}

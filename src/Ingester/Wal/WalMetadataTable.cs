namespace LokiSharp.Ingester.Wal;

/// <summary>
/// The metadata table of a compact entries record: encoded structured metadata that many entries share (by
/// reference, as validation hands out one array per detected level), written once and referred to by position.
/// </summary>
public sealed class WalMetadataTable
{
    private readonly List<byte[]> _entries = new(8);

    /// <summary>The encodings in the order they were added.</summary>
    public IReadOnlyList<byte[]> Entries => _entries;

    /// <summary>Adds <paramref name="encoded"/> unless the very same array is in the table already.</summary>
    public void Add(byte[] encoded)
    {
        if (IndexOf(encoded) < 0)
        {
            _entries.Add(encoded);
        }
    }

    /// <summary>The position of <paramref name="encoded"/> (compared by reference), or -1.</summary>
    public int IndexOf(byte[] encoded)
    {
        for (var i = 0; i < _entries.Count; i++)
        {
            if (ReferenceEquals(_entries[i], encoded))
            {
                return i;
            }
        }

        return -1;
    }
}

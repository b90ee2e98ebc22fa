namespace LokiSharp.Storage.Store;

/// <content>Online snapshots: a consistent copy of the store that costs links, not bytes.</content>
public sealed partial class ChunkStore
{
    /// <summary>
    /// Puts a consistent copy of the store under <paramref name="destination"/> with the same layout, while
    /// writes go on: each index table's files are cut under its write lock first, then the pack files are
    /// linked (packs are immutable, and every pack an index entry names exists before the entry is written, and
    /// is deleted only long after retention marked it). A pack written after the cut is linked as well and
    /// simply unreferenced in the copy.
    /// </summary>
    /// <returns>The bytes copied rather than linked (index journals, and everything where links are impossible).</returns>
    public long SnapshotTo(string destination)
    {
        ThrowIfBucket("a snapshot");
        long copied = 0;
        foreach (var tenant in _tenants.Values)
        {
            var root = Path.Combine(destination, Path.GetFileName(tenant.Root));
            var index = Path.Combine(root, IndexDirectory);
            Directory.CreateDirectory(index);
            foreach (var table in tenant.Tables.Values)
            {
                copied += table.SnapshotTo(index);
            }

            // Files of tables that did not load (reported as corrupt at start) go along as they are.
            copied += DurableFile.LinkFiles(tenant.IndexPath, index);
            var chunks = Path.Combine(root, ChunksDirectory);
            Directory.CreateDirectory(chunks);
            copied += DurableFile.LinkFiles(tenant.ChunksPath, chunks);
        }

        return copied;
    }
}

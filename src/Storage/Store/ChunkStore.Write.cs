using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Bucket;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Store;

/// <content>
/// The write path: a flush's chunks go into one new pack file, then into the index journal of every period they
/// overlap.
/// </content>
public sealed partial class ChunkStore
{
    /// <summary>
    /// Stores chunks durably: one pack file (temp, fsync, rename, fsync dir), then the index journal of every
    /// period each chunk overlaps (append, fsync). Returns once all of it is on disk and queryable; if it
    /// throws, nothing partial is visible and the call can be retried.
    /// </summary>
    public void Write(string tenant, IReadOnlyList<ChunkWrite> chunks)
    {
        ThrowIfReadOnly();
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (chunks.Count == 0)
        {
            return;
        }

        var payloads = new ReadOnlyMemory<byte>[chunks.Count];
        for (var i = 0; i < chunks.Count; i++)
        {
            if (chunks[i].Summary.Entries == 0)
            {
                throw new ArgumentException("empty chunks are not stored", nameof(chunks));
            }

            payloads[i] = chunks[i].Chunk;
        }

        if (_bucket is { } bucket)
        {
            WriteToBucket(bucket, tenant, chunks, payloads);
            return;
        }

        var t = GetTenant(tenant);
        DurableFile.EnsureDirectory(t.ChunksPath);
        DurableFile.EnsureDirectory(t.IndexPath);
        long packId;
        long[]? offsets;
        var packHook = FlushHook is { } hook ? (Action<DurableStep>)(s => hook(Map(s, pack: true))) : null;
        do
        {
            packId = Interlocked.Increment(ref _nextPackId);

            // Registered before the file exists, so the pack collector never takes a pack whose index entries
            // are still being written for unreferenced garbage.
            _packsInFlight[packId] = 0;
            offsets = PackFiles.TryWrite(PackFiles.PathOf(t.ChunksPath, packId), payloads, packHook);
            if (offsets is null)
            {
                _packsInFlight.TryRemove(packId, out _);
            }
        }
        while (offsets is null);

        try
        {
            AppendToTables(t, chunks, packId, offsets);
        }
        finally
        {
            _packsInFlight.TryRemove(packId, out _);
        }
    }

    private void AppendToTables(Tenant t, IReadOnlyList<ChunkWrite> chunks, long packId, long[] offsets)
    {
        var byTable = ByTable(chunks, packId, offsets, time => { var table = t.TableFor(this, time); return (table, table.End); });
        var indexHook = FlushHook is { } h ? (Action<DurableStep>)(s => h(Map(s, pack: false))) : null;
        foreach (var (table, list) in byTable)
        {
            table.Append(list, indexHook);
        }
    }

    // One pack object, then one segment per table the chunks overlap; each segment commits the flush for its table
    // and is applied to this process's index at once (docs/formats/bucket.md).
    private void WriteToBucket(BucketLayout bucket, string tenant, IReadOnlyList<ChunkWrite> chunks, ReadOnlyMemory<byte>[] payloads)
    {
        var (packId, offsets) = bucket.WritePack(tenant, payloads);
        try
        {
            var byTable = ByTable(chunks, packId, offsets, time => { var table = TableAt(time); return (table, table.Start + table.Length); });
            foreach (var ((name, start, length), list) in byTable)
            {
                bucket.CommitTable(tenant, name, start, length, packId, list);
            }
        }
        finally
        {
            // Indexed (or failed): the compactor may judge the pack by the index from now on.
            bucket.PackDone(tenant, packId);
        }
    }

    // The chunks' index entries grouped by the tables (periods) each chunk overlaps: a chunk spanning a period
    // boundary is listed in every table it touches. tableAt gives the table holding a time and where it ends.
    private static Dictionary<TTable, List<(LabelSet, ChunkRef)>> ByTable<TTable>(IReadOnlyList<ChunkWrite> chunks, long packId, long[] offsets,
        Func<long, (TTable Table, long End)> tableAt)
        where TTable : notnull
    {
        var byTable = new Dictionary<TTable, List<(LabelSet, ChunkRef)>>();
        for (var i = 0; i < chunks.Count; i++)
        {
            var c = chunks[i];
            var chunkRef = new ChunkRef(packId, offsets[i], c.Chunk.Length, c.Summary.MinTime, c.Summary.MaxTime,
                c.Summary.Entries, c.Summary.UncompressedBytes);
            var time = c.Summary.MinTime;
            while (true)
            {
                var (table, end) = tableAt(time);
                if (!byTable.TryGetValue(table, out var list))
                {
                    byTable[table] = list = [];
                }

                list.Add((c.Labels, chunkRef));
                if (end > c.Summary.MaxTime || end <= time)
                {
                    break;
                }

                time = end;
            }
        }

        return byTable;
    }

    private static FlushStep Map(DurableStep step, bool pack) => (step, pack) switch
    {
        (DurableStep.Written, true) => FlushStep.PackWritten,
        (DurableStep.Synced, true) => FlushStep.PackSynced,
        (DurableStep.Renamed, true) => FlushStep.PackRenamed,
        (DurableStep.Written, false) => FlushStep.IndexWritten,
        _ => FlushStep.IndexSynced,
    };
}

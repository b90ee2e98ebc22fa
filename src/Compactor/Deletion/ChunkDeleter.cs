using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;
using LokiSharp.Storage.Reading;
using LokiSharp.Storage.Store;

namespace LokiSharp.Compactor.Deletion;

/// <summary>
/// Applies one delete request to a tenant's stored chunks: chunks wholly inside the range of a request without
/// line filters are deleted from the index; other affected chunks are rewritten without the deleted entries
/// (<see cref="ChunkStore.ReplaceChunk"/>), or deleted when nothing is left. Rerunning it is harmless: chunks
/// already rewritten hold no deleted entries and are left alone. A chunk with a corrupt or unreadable part is
/// never rewritten (that would drop the part's entries the request does not cover): it is left whole, its
/// deleted entries stay hidden from queries by the request, and the store reports the damage.
/// </summary>
internal static class ChunkDeleter
{
    /// <summary>
    /// Applies <paramref name="request"/>; returns (chunks deleted, chunks rewritten, lines deleted, chunks left whole
    /// because they are damaged).
    /// </summary>
    public static (int Deleted, int Rewritten, long Lines, int Damaged) Apply(ChunkStore store, DeleteRequest request)
    {
        int deleted = 0, rewritten = 0, damaged = 0;
        long lines = 0;
        var pipeline = request.HasFilters ? request.CompilePipeline() : null;
        var wholeChunks = new List<(long, long)>();
        foreach (var stored in store.ListChunks(request.Tenant))
        {
            var chunk = stored.Chunk;
            if (!request.Overlaps(chunk.From, chunk.Through) || !request.MatchesStream(stored.Labels))
            {
                continue;
            }

            if (pipeline is null && chunk.From >= request.StartNs && chunk.Through <= request.EndNs)
            {
                wholeChunks.Add(chunk.Key);
                lines += chunk.Entries;
                continue;
            }

            var (kept, removed, isDamaged) = Rewrite(store, request, pipeline, stored.Labels, chunk);
            if (isDamaged)
            {
                damaged++;
                continue;
            }

            if (removed == 0)
            {
                kept?.Dispose();
                continue;
            }

            lines += removed;
            if (kept is null)
            {
                wholeChunks.Add(chunk.Key);
                continue;
            }

            using (kept)
            {
                using var output = new PooledBufferWriter();
                var summary = kept.Finish(output);
                store.ReplaceChunk(request.Tenant, stored.Labels, chunk,
                    new ChunkWrite(stored.Labels, output.WrittenSpan.ToArray(), summary));
                rewritten++;
            }
        }

        deleted += store.DeleteChunks(request.Tenant, wholeChunks);
        return (deleted, rewritten, lines, damaged);
    }

    /// <summary>
    /// Whether an entry is deleted by the request: inside its range and, with line filters, passing them.
    /// </summary>
    public static bool IsDeleted(DeleteRequest request, StreamPipeline? stream, in LogEntry entry)
    {
        if (entry.Timestamp < request.StartNs || entry.Timestamp > request.EndNs)
        {
            return false;
        }

        if (stream is null)
        {
            return true;
        }

        var line = entry.Line;
        var metadata = entry.Metadata.Count == 0 ? [] : entry.Metadata.ToLabelPairs();
        return stream.Run(entry.Timestamp, ref line, metadata);
    }

    /// <summary>Builds the chunk without deleted entries; null builder when nothing is kept or the chunk is damaged.</summary>
    private static (ChunkBuilder? Kept, long Removed, bool Damaged) Rewrite(ChunkStore store, DeleteRequest request,
        LogPipeline? pipeline, LabelSet labels, ChunkRef chunk)
    {
        var stream = pipeline?.ForStream(labels);
        var builder = store.Options.CreateChunkBuilder();
        long removed = 0;
        using (var entries = store.OpenChunk(request.Tenant, chunk, new EntryQuery(chunk.From, chunk.Through + 1)))
        {
            while (entries.MoveNext())
            {
                var entry = entries.Current;
                if (IsDeleted(request, stream, entry))
                {
                    removed++;
                }
                else
                {
                    var metadata = entry.Metadata.Count == 0 ? [] : entry.Metadata.ToLabelPairs();
                    builder.Append(entry.Timestamp, entry.Line, metadata);
                }
            }

            if (entries.Warnings.Count > 0)
            {
                // A damaged chunk is not rewritten: dropping its unreadable blocks would turn a partial
                // delete into data loss.
                builder.Dispose();
                return (null, 0, true);
            }
        }

        if (builder.EntryCount == 0)
        {
            builder.Dispose();
            return (null, removed, false);
        }

        return (builder, removed, false);
    }
}

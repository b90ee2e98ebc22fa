using LokiSharp.LogQL.Labels;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Index;

namespace LokiSharp.Storage.Bucket;

/// <summary>
/// Encoding of a table generation (docs/formats/bucket.md): every live chunk of the table, each naming its
/// writer, and per writer the highest segment sequence it covers. Written by the compactor (not wired yet).
/// </summary>
internal static class GenerationFile
{
    /// <summary>Encodes generation <paramref name="number"/> of compactor <paramref name="epoch"/>.</summary>
    /// <param name="periodStart">The table's period start, Unix ns.</param>
    /// <param name="periodLength">The table's period length, ns.</param>
    /// <param name="number">The generation number (base's + 1).</param>
    /// <param name="epoch">The compactor's epoch.</param>
    /// <param name="coverage">Writer name to the highest sequence of its segments included.</param>
    /// <param name="chunks">Live chunks; <see cref="ChunkRef.PackId"/> is the pack id within <c>Writer</c>.</param>
    public static byte[] Encode(long periodStart, long periodLength, int number, long epoch,
        IReadOnlyDictionary<string, long> coverage, IReadOnlyList<(LabelSet Labels, string Writer, ChunkRef Chunk)> chunks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epoch);
        var writers = new Dictionary<string, int>(StringComparer.Ordinal) { [WriterName.Compactor] = 0 };
        List<string> order = [WriterName.Compactor];
        foreach (var writer in coverage.Keys.Order(StringComparer.Ordinal).Concat(chunks.Select(static c => c.Writer)))
        {
            if (writers.TryAdd(writer, writers.Count))
            {
                order.Add(writer);
            }
        }

        using var buffer = new PooledBufferWriter(64 * 1024);
        IndexFile.WriteBucketHeader(buffer, periodStart, periodLength);
        for (var id = 0; id < order.Count; id++)
        {
            WriterName.Validate(order[id], allowReserved: true);
            IndexFile.WriteWriter(buffer, id, order[id]);
        }

        IndexFile.WriteIdentity(buffer, IndexFile.GenerationKind, 0, number, epoch);
        foreach (var (writer, seq) in coverage.OrderBy(static c => c.Key, StringComparer.Ordinal))
        {
            IndexFile.WriteCoverage(buffer, writers[writer], seq);
        }

        var seriesIds = new Dictionary<LabelSet, int>();
        foreach (var (labels, writer, chunk) in chunks)
        {
            if (!seriesIds.TryGetValue(labels, out var id))
            {
                id = seriesIds.Count;
                seriesIds.Add(labels, id);
                IndexFile.WriteSeries(buffer, id, labels);
            }

            IndexFile.WriteChunk(buffer, id, chunk, writers[writer]);
        }

        IndexFile.WriteEnd(buffer);
        return buffer.WrittenSpan.ToArray();
    }
}

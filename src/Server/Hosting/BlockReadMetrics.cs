using LokiSharp.Storage.Reading;
using Prometheus;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// What the chunk readers of all queries did, read from <see cref="BlockReadTotals"/> at every scrape:
/// <c>loki_lokisharp_query_blocks_total{outcome}</c> (decoded, skipped_time, skipped_content, corrupt) and
/// <c>loki_lokisharp_query_block_bytes_total{outcome}</c> (loaded: encoded chunk bytes read; decoded: compressed
/// bytes of decoded blocks; skipped_content: compressed bytes the content filters spared; decompressed).
/// </summary>
internal static class BlockReadMetrics
{
    private static readonly Counter Blocks = Metrics.CreateCounter("loki_lokisharp_query_blocks_total",
        "Chunk blocks met by query readers, by outcome (decoded, skipped_time, skipped_content, corrupt).", ["outcome"]);

    private static readonly Counter Bytes = Metrics.CreateCounter("loki_lokisharp_query_block_bytes_total",
        "Chunk bytes met by query readers, by outcome (loaded, decoded, skipped_content, decompressed).", ["outcome"]);

    /// <summary>Updates the counters before every scrape.</summary>
    public static void Register() => Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
    {
        var totals = BlockReadTotals.Snapshot();
        Blocks.WithLabels("decoded").IncTo(totals.BlocksDecoded);
        Blocks.WithLabels("skipped_time").IncTo(totals.BlocksSkippedByTime);
        Blocks.WithLabels("skipped_content").IncTo(totals.BlocksSkippedByContent);
        Blocks.WithLabels("corrupt").IncTo(totals.Corrupt);
        Bytes.WithLabels("loaded").IncTo(totals.LoadedBytes);
        Bytes.WithLabels("decoded").IncTo(totals.CompressedBytes);
        Bytes.WithLabels("skipped_content").IncTo(totals.SkippedByContentBytes);
        Bytes.WithLabels("decompressed").IncTo(totals.DecompressedBytes);
    });
}

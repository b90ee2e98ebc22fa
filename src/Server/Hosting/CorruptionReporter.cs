using LokiSharp.Storage.Store;

namespace LokiSharp.Server.Hosting;

/// <summary>
/// Reports corrupt or unreadable index files, chunks and blocks met while loading or reading: one error log line
/// with the file and what was skipped, and <c>loki_lokisharp_corrupt_data_total{tenant,kind}</c>. The store reports
/// each damaged chunk or block once, not once per query.
/// </summary>
internal sealed partial class CorruptionReporter(ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger("LokiSharp.Storage.Corruption");
    private readonly Prometheus.Counter _corrupt = Prometheus.Metrics.CreateCounter("loki_lokisharp_corrupt_data_total",
        "Corrupt or unreadable index files, chunks and chunk blocks found and skipped, per tenant and kind (index, chunk, block).",
        ["tenant", "kind"]);

    public void Report(StorageCorruption corruption)
    {
        var kind = corruption.Kind switch
        {
            CorruptionKind.Chunk => "chunk",
            CorruptionKind.Block => "block",
            _ => "index",
        };
        _corrupt.WithLabels(corruption.Tenant, kind).Inc();
        LogCorruption(corruption.Tenant, kind, corruption.Path, corruption.Message);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "corrupt data skipped")]
    private partial void LogCorruption(string tenant, string kind, string path, string reason);
}

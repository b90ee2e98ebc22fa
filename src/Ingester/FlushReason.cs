namespace LokiSharp.Ingester;

/// <summary>Why a chunk was flushed, as Loki labels <c>loki_ingester_chunks_flushed_total</c>.</summary>
public enum FlushReason
{
    Full,
    Idle,
    MaxAge,
    Forced,
}

namespace LokiSharp.Ingester.Push;

/// <summary>
/// Which push endpoint a body arrived at: it chooses the decoder (<see cref="PushBodyDecoder"/> for Loki's two,
/// with the legacy one's own JSON shape; <see cref="Otlp.OtlpLogsDecoder"/> for OTLP).
/// </summary>
public enum PushEndpoint
{
    /// <summary><c>/loki/api/v1/push</c></summary>
    V1,

    /// <summary><c>/api/prom/push</c></summary>
    Legacy,

    /// <summary><c>/otlp/v1/logs</c></summary>
    Otlp,
}

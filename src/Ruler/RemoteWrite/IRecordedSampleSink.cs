namespace LokiSharp.Ruler.RemoteWrite;

/// <summary>
/// Where a rule group hands the samples its recording rules produced. Queues and returns at once (a bounded
/// queue drained by Prometheus remote write); evaluation never waits for the remote end.
/// </summary>
public interface IRecordedSampleSink
{
    /// <summary>Queues <paramref name="samples"/> of <paramref name="tenant"/>.</summary>
    void Append(string tenant, IReadOnlyList<RecordedSample> samples);
}

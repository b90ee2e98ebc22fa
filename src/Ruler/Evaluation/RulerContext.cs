using LokiSharp.Ruler.Configuration;
using LokiSharp.Ruler.Notifications;
using LokiSharp.Ruler.RemoteWrite;
using LokiSharp.Ruler.State;

namespace LokiSharp.Ruler.Evaluation;

/// <summary>
/// What every group's evaluation uses: the settings, the query engine, where alerts and recorded samples go (null:
/// not configured, so dropped as Loki does), the metrics, the alert-state store and a sink for warnings to log.
/// </summary>
public sealed record RulerContext(
    RulerOptions Options,
    IRuleQueryEngine Engine,
    IAlertNotifier? Notifier,
    IRecordedSampleSink? Sink,
    RulerMetrics? Metrics,
    AlertStateStore? StateStore,
    TimeProvider Time,
    Action<string>? Warn = null);

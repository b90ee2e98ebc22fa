using LokiSharp.LogQL.Ast;
using LokiSharp.Ruler.Alerting;
using LokiSharp.Ruler.Evaluation;
using LokiSharp.Ruler.Notifications;
using LokiSharp.Ruler.RemoteWrite;

namespace LokiSharp.Ruler.Tests;

/// <summary>A query engine answering each query text with a set vector, or throwing a set error.</summary>
internal sealed class FakeQueryEngine : IRuleQueryEngine
{
    public Dictionary<string, IReadOnlyList<RuleSample>> Vectors { get; } = [];

    public Dictionary<string, string> Errors { get; } = [];

    public List<(string Tenant, string Query, DateTimeOffset Time)> Calls { get; } = [];

    public IReadOnlyList<RuleSample> Query(string tenant, SampleExpr expr, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var text = expr.ToString();
        Calls.Add((tenant, text, time));
        if (Errors.TryGetValue(text, out var error))
        {
            throw new InvalidOperationException(error);
        }

        return Vectors.TryGetValue(text, out var vector) ? vector : [];
    }
}

internal sealed class FakeNotifier : IAlertNotifier
{
    public List<(string Tenant, AlertNotification Alert)> Sent { get; } = [];

    public void Send(string tenant, IReadOnlyList<AlertNotification> alerts) => Sent.AddRange(alerts.Select(a => (tenant, a)));
}

internal sealed class FakeSink : IRecordedSampleSink
{
    public List<(string Tenant, RecordedSample Sample)> Samples { get; } = [];

    public void Append(string tenant, IReadOnlyList<RecordedSample> samples) => Samples.AddRange(samples.Select(s => (tenant, s)));
}

using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ingester.Tail;

/// <summary>Receives the entries of every durable push of the tenants it subscribed to.</summary>
public interface ITailSubscriber
{
    /// <summary>
    /// Called on the pushing thread after the push is durable, once per stream, entries in request order. Must
    /// not block: a subscriber queues what it wants and returns.
    /// </summary>
    void OnPushed(LabelSet streamLabels, IReadOnlyList<PushedEntry> entries);
}

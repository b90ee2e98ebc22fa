using LokiSharp.LogQL.Labels;

namespace LokiSharp.Ingester.Tail;

/// <summary>One entry a push made durable, copied out of the push's buffers for live tailing.</summary>
/// <param name="TimestampNs">Unix ns.</param>
/// <param name="Line">The log line.</param>
/// <param name="Metadata">Structured metadata as stored.</param>
public readonly record struct PushedEntry(long TimestampNs, string Line, LabelPair[] Metadata);

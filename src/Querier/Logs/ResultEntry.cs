using LokiSharp.LogQL.Pipeline;

namespace LokiSharp.Querier.Logs;

/// <summary>One log line of a result, with the labels the pipeline gave it, split as Loki 3 categorises them.</summary>
public readonly record struct ResultEntry(long Timestamp, string Line, LabelsResult Labels);

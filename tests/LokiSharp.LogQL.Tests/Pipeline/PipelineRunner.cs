using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>The outcome of one entry through a pipeline, in strings for readable assertions.</summary>
internal sealed record EntryOutcome(bool Kept, string Line, string Labels, LabelsResult? Result)
{
    public string? Label(string name) => Result?.All.Get(name);
}

/// <summary>Compiles a query's pipeline and runs single entries through it.</summary>
internal static class PipelineRunner
{
    public const string DefaultStream = "{app=\"web\"}";

    public static LogPipeline Compile(string query) =>
        LogPipeline.Compile(LogQLParser.ParseLogSelector(query));

    public static EntryOutcome Run(string query, string line, string stream = DefaultStream, params (string Name, string Value)[] metadata) =>
        Run(Compile(query), Encoding.UTF8.GetBytes(line), stream, 0, metadata);

    public static EntryOutcome Run(LogPipeline pipeline, byte[] line, string stream = DefaultStream, long timestampNs = 0,
        params (string Name, string Value)[] metadata)
    {
        var sp = pipeline.ForStream(LabelSetParser.Parse(stream));
        var md = metadata.Select(static m => new LabelPair(m.Name, m.Value)).ToArray();
        if (!sp.Process(timestampNs, line, md, out var output, out var labels))
        {
            return new EntryOutcome(false, string.Empty, string.Empty, null);
        }

        return new EntryOutcome(true, Encoding.UTF8.GetString(output), labels.All.ToString(), labels);
    }

    public static bool Keeps(string query, string line) => Run(query, line).Kept;
}

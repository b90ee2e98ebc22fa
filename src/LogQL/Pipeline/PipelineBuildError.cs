using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Pipeline;

/// <summary>Loki's pipeline build-time errors: <c>parse error : stage '&lt;stage&gt;' : &lt;cause&gt;</c> (HTTP 400).</summary>
public static class PipelineBuildError
{
    /// <summary>The exception for a stage that cannot be compiled.</summary>
    public static LogQLParseException Create(string stage, string cause) =>
        new("stage '" + stage + "' : " + cause);
}

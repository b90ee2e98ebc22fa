namespace LokiSharp.Ruler.Rules;

/// <summary>
/// Why a rule file, group or rule was skipped. <see cref="Message"/> is Loki's text; <see cref="Group"/> and
/// <see cref="Rule"/> are null when the whole file or group was skipped; <see cref="Line"/> is 0 when unknown.
/// </summary>
public sealed record RuleProblem(string File, string? Group, string? Rule, int Line, string Message)
{
    /// <summary>Loki's log form: the file, then the message (<c>rules.yaml: groupname: "x" is repeated ...</c>).</summary>
    public override string ToString() => File + ": " + Message;
}

namespace LokiSharp.Ruler.Evaluation;

/// <summary>A rule group's identity: its tenant, namespace (rule file) and name.</summary>
public readonly record struct GroupKey(string Tenant, string Namespace, string Group);

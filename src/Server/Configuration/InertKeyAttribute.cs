namespace LokiSharp.Server.Configuration;

/// <summary>
/// Marks a configuration property the typed model holds (so <c>/config</c> shows it with Loki's default) but no
/// LokiSharp room acts on yet. Setting it is reported once as ignored; on a section, that one notice covers
/// everything under it, except keys a Loki version deprecated, which still get their own line.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class InertKeyAttribute : Attribute;

namespace LokiSharp.LogQL.Syntax;

/// <summary>Settings of the LogQL parser.</summary>
public sealed record LogQLParserOptions
{
    /// <summary>Loki's behaviour.</summary>
    public static LogQLParserOptions Default { get; } = new();

    /// <summary>
    /// Accept <c>{}</c> and selectors whose matchers all match the empty string (such as <c>{app=~".*"}</c>),
    /// which Loki rejects. Off by default.
    /// </summary>
    public bool AllowEmptyMatchers { get; init; }
}

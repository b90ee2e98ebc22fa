namespace LokiSharp.LogQL.Literals;

/// <summary>
/// Literals of a line-filter chain that every matching line must contain: at least one of <see cref="AnyOf"/>
/// (UTF-8), compared case-insensitively (ASCII) when <see cref="IgnoreCase"/> is set. Storage can skip a block whose
/// content filter rules out every alternative of any requirement.
/// </summary>
public sealed record LiteralRequirement(IReadOnlyList<byte[]> AnyOf, bool IgnoreCase);

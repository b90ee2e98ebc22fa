namespace LokiSharp.LogQL.Pipeline;

/// <summary><c>|= ip("...")</c>: some address in the line lies in the pattern.</summary>
internal sealed class IpLineMatcher(IpPattern pattern) : LineMatcher
{
    public override bool Matches(ReadOnlySpan<byte> line) => pattern.MatchesAnyIn(line);
}

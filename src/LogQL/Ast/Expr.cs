using System.Text;
using LokiSharp.LogQL.Labels;

namespace LokiSharp.LogQL.Ast;

/// <summary>A parsed LogQL query. <see cref="object.ToString"/> gives Loki's canonical form.</summary>
public abstract record Expr
{
    /// <summary>Appends the canonical form to <paramref name="sb"/>.</summary>
    public abstract void WriteTo(StringBuilder sb);

    /// <summary>Loki's canonical form of the expression (what <c>format_query</c> returns).</summary>
    public sealed override string ToString()
    {
        var sb = new StringBuilder(64);
        WriteTo(sb);
        return sb.ToString();
    }
}

/// <summary>A log query: a stream selector, optionally followed by pipeline stages.</summary>
public abstract record LogSelectorExpr : Expr
{
    /// <summary>The stream selector's matchers.</summary>
    public abstract EquatableArray<LabelMatcher> Matchers { get; }
}

/// <summary>A bare stream selector such as <c>{app="web", env=~"prod|dev"}</c>.</summary>
public sealed record MatchersExpr(EquatableArray<LabelMatcher> Matchers) : LogSelectorExpr
{
    /// <inheritdoc />
    public override EquatableArray<LabelMatcher> Matchers { get; } = Matchers;

    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        sb.Append('{');
        for (var i = 0; i < Matchers.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            sb.Append(Matchers[i].ToString());
        }

        sb.Append('}');
    }
}

/// <summary>A stream selector followed by at least one pipeline stage.</summary>
public sealed record PipelineExpr(MatchersExpr Selector, EquatableArray<StageExpr> Stages) : LogSelectorExpr
{
    /// <inheritdoc />
    public override EquatableArray<LabelMatcher> Matchers => Selector.Matchers;

    /// <inheritdoc />
    public override void WriteTo(StringBuilder sb)
    {
        Selector.WriteTo(sb);
        foreach (var stage in Stages)
        {
            sb.Append(' ');
            stage.WriteTo(sb);
        }
    }
}

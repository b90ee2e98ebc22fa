using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>A <c>by (...)</c> or <c>without (...)</c> clause.</summary>
public sealed record Grouping(bool Without, EquatableArray<string> Labels)
{
    /// <summary>No clause, or <c>by ()</c>: everything aggregated into one series.</summary>
    public bool IsSingleton => !Without && Labels.IsEmpty;

    /// <summary>Appends <c> by (a,b)</c> or <c> without (a)</c>.</summary>
    public void WriteTo(StringBuilder sb)
    {
        sb.Append(Without ? " without (" : " by (");
        for (var i = 0; i < Labels.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(Labels[i]);
        }

        sb.Append(')');
    }
}

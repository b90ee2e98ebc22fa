using System.Text;

namespace LokiSharp.LogQL.Ast;

/// <summary>The conversion applied by <c>unwrap</c>.</summary>
public enum UnwrapConversion
{
    /// <summary>Plain float parsing.</summary>
    None,

    /// <summary><c>bytes(label)</c></summary>
    Bytes,

    /// <summary><c>duration(label)</c></summary>
    Duration,

    /// <summary><c>duration_seconds(label)</c></summary>
    DurationSeconds,
}

/// <summary><c>| unwrap label</c> or <c>| unwrap bytes(label)</c>, with the label filters that follow it.</summary>
public sealed record UnwrapExpr(string Identifier, UnwrapConversion Conversion, EquatableArray<LabelFilter> PostFilters)
{
    /// <summary>The conversion's name as written.</summary>
    public static string ConversionText(UnwrapConversion conversion) => conversion switch
    {
        UnwrapConversion.Bytes => "bytes",
        UnwrapConversion.Duration => "duration",
        UnwrapConversion.DurationSeconds => "duration_seconds",
        _ => string.Empty,
    };

    /// <summary>Appends <c> | unwrap x | filter...</c> (with the leading space, as Loki prints it).</summary>
    public void WriteTo(StringBuilder sb)
    {
        sb.Append(" | unwrap ");
        if (Conversion == UnwrapConversion.None)
        {
            sb.Append(Identifier);
        }
        else
        {
            sb.Append(ConversionText(Conversion)).Append('(').Append(Identifier).Append(')');
        }

        foreach (var filter in PostFilters)
        {
            sb.Append(" | ");
            filter.WriteTo(sb);
        }
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        WriteTo(sb);
        return sb.ToString();
    }
}

using Microsoft.CodeAnalysis;

namespace LokiSharp.Analyzers;

/// <summary>The diagnostics LokiSharp's own analyzers report, in one table.</summary>
public static class HouseRules
{
    /// <summary>A type other projects can use says what it is in an XML <c>summary</c>.</summary>
    public static readonly DiagnosticDescriptor PublicTypeNeedsSummary = new(
        "LS0001",
        "Public type without a summary",
        "Public type '{0}' has no /// <summary> saying what it is",
        "Documentation",
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    /// <summary>Lines stay within the editorconfig's <c>max_line_length</c>.</summary>
    public static readonly DiagnosticDescriptor LineTooLong = new(
        "LS0002",
        "Line too long",
        "Line is {0} characters long; the limit (max_line_length in .editorconfig) is {1}",
        "Formatting",
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true);
}

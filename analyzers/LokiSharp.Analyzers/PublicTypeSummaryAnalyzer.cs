using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LokiSharp.Analyzers;

/// <summary>
/// Reports public types (visible outside their assembly) that carry no <c>summary</c> documentation. Members are
/// not checked: their names and the type's summary usually say enough, and a rule on every member breeds noise.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PublicTypeSummaryAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(HouseRules.PublicTypeNeedsSummary);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
    }

    private static void AnalyzeType(SymbolAnalysisContext context)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (type.IsImplicitlyDeclared || !IsVisibleOutsideAssembly(type) || HasSummary(type))
        {
            return;
        }

        // A partial type needs its summary once; report it at its first declaration only.
        var location = type.Locations.Length > 0 ? type.Locations[0] : Location.None;
        context.ReportDiagnostic(Diagnostic.Create(HouseRules.PublicTypeNeedsSummary, location, type.Name));
    }

    private static bool IsVisibleOutsideAssembly(INamedTypeSymbol type)
    {
        for (ISymbol? symbol = type; symbol is INamedTypeSymbol current; symbol = current.ContainingType)
        {
            if (current.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal))
            {
                return false;
            }
        }

        return true;
    }

    // The comment text is read rather than GetDocumentationCommentXml, which is empty unless the project
    // generates a documentation file (and then /// comments are plain comment trivia to the syntax tree).
    private static bool HasSummary(INamedTypeSymbol type)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            foreach (var trivia in reference.GetSyntax().GetLeadingTrivia())
            {
                var text = trivia.ToFullString();
                if (text.TrimStart().StartsWith("///", StringComparison.Ordinal)
                    && (text.Contains("<summary") || text.Contains("<inheritdoc")))
                {
                    return true;
                }
            }
        }

        return false;
    }
}

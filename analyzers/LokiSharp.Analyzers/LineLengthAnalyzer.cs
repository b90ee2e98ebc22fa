using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace LokiSharp.Analyzers;

/// <summary>
/// Reports lines longer than the <c>max_line_length</c> the .editorconfig sets for the file; editors show that
/// ruler, but the compiler ignores it, so without this the limit would hold only by goodwill.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LineLengthAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(HouseRules.LineTooLong);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterSyntaxTreeAction(AnalyzeTree);
    }

    private static void AnalyzeTree(SyntaxTreeAnalysisContext context)
    {
        var options = context.Options.AnalyzerConfigOptionsProvider.GetOptions(context.Tree);
        if (!options.TryGetValue("max_line_length", out var value) || !int.TryParse(value, out var limit) || limit <= 0)
        {
            return;
        }

        var text = context.Tree.GetText(context.CancellationToken);
        foreach (var line in text.Lines)
        {
            var length = line.End - line.Start;
            if (length > limit)
            {
                var location = Location.Create(context.Tree, TextSpan.FromBounds(line.Start + limit, line.End));
                context.ReportDiagnostic(Diagnostic.Create(HouseRules.LineTooLong, location, length, limit));
            }
        }
    }
}

namespace LokiSharp.Analyzers.Tests;

public sealed class HouseRuleTests
{
    [Fact]
    public async Task A_public_type_without_a_summary_is_reported_by_name()
    {
        var found = await AnalyzerRun.DiagnosticsAsync(new PublicTypeSummaryAnalyzer(), """
            /// <summary>Documented.</summary>
            public sealed class Documented
            {
                public sealed class NestedUndocumented { }
            }

            // A plain comment is not documentation.
            public record Undocumented(int Value);

            internal sealed class Internal { }

            /// <inheritdoc/>
            public sealed class Inheriting { }

            public sealed partial class Split { }

            /// <summary>The summary may sit on any part.</summary>
            public sealed partial class Split { }
            """);

        Assert.Equal(
            ["LS0001 NestedUndocumented", "LS0001 Undocumented"],
            found.Select(d => d.Id + " " + d.GetMessage().Split('\'')[1]).Order());
    }

    [Fact]
    public async Task Lines_longer_than_the_editorconfig_limit_are_reported_with_their_length()
    {
        var source = "namespace N;\n// " + new string('x', 20) + "\n// short\n";
        var limited = await AnalyzerRun.DiagnosticsAsync(new LineLengthAnalyzer(), source,
            new Dictionary<string, string> { ["max_line_length"] = "20" });
        var unlimited = await AnalyzerRun.DiagnosticsAsync(new LineLengthAnalyzer(), source);

        var diagnostic = Assert.Single(limited);
        Assert.Equal("LS0002", diagnostic.Id);
        Assert.Equal(1, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Contains("23 characters", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(unlimited);
    }
}

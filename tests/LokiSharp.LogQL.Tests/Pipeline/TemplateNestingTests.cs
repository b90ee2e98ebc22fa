using System.Text;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>Template nesting: parsing and executing recurse per level, so the depth is capped and a deeper template fails to parse.</summary>
public sealed class TemplateNestingTests
{
    private static string Execute(string template)
    {
        var sb = new StringBuilder();
        GoTemplate.Parse("line", template).Execute(sb, new EmptyData(), new TemplateContext());
        return sb.ToString();
    }

    private sealed class EmptyData : ITemplateData
    {
        public string? Get(string name) => null;

        public IEnumerable<KeyValuePair<string, string>> Pairs => [];
    }

    [Theory]
    [InlineData("parentheses")]
    [InlineData("ifs")]
    public void Nesting_parses_to_the_limit_and_fails_past_it(string shape)
    {
        static string Nest(string shape, int depth) => shape == "parentheses"
            ? "{{ " + string.Concat(Enumerable.Repeat("(", depth)) + "1" + string.Concat(Enumerable.Repeat(")", depth)) + " }}"
            : string.Concat(Enumerable.Repeat("{{ if true }}", depth)) + "1" + string.Concat(Enumerable.Repeat("{{ end }}", depth));

        Assert.Equal("1", Execute(Nest(shape, GoTemplate.MaxNestingDepth)));
        var e = Assert.Throws<TemplateParseException>(() => GoTemplate.Parse("line", Nest(shape, GoTemplate.MaxNestingDepth + 1)));
        Assert.Equal("template: line:1: max expression depth exceeded", e.Message);

        // The query size limit allows tens of thousands of levels: they fail to parse, and the stack survives.
        Assert.Throws<TemplateParseException>(() => GoTemplate.Parse("line", Nest(shape, 50_000)));
    }

    [Fact]
    public void Else_if_chains_count_as_nesting()
    {
        var chain = "{{ if false }}0" + string.Concat(Enumerable.Range(1, 200).Select(static i => "{{ else if false }}" + i)) + "{{ end }}";
        Assert.Equal("template: line:1: max expression depth exceeded", Assert.Throws<TemplateParseException>(() => GoTemplate.Parse("line", chain)).Message);
    }
}

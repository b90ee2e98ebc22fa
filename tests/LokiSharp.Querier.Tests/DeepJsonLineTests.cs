using System.Text;
using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Detected;
using LokiSharp.Querier.Patterns;

namespace LokiSharp.Querier.Tests;

/// <summary>
/// Detected fields and patterns over a stream holding a JSON line of 40,000 nested objects next to a normal one:
/// the deep line is parsed no further than the json parser's limit, and the normal line's fields come through.
/// </summary>
public sealed class DeepJsonLineTests
{
    private const long Second = 1_000_000_000L;
    private const long Start = 1_700_000_000L * Second;

    private static readonly string DeepLine =
        new StringBuilder().Insert(0, "{\"a\":", 40_000).Append("{}").Append('}', 40_000).ToString();

    private static ChunkSource Source()
    {
        var source = new ChunkSource();
        source.Add(LabelSet.From(("app", "deep")), [(Start + Second, DeepLine), (Start + (2 * Second), "{\"level\":\"info\",\"a\":{\"b\":\"c\"}}")]);
        return source;
    }

    [Fact]
    public void Detected_fields_come_from_the_normal_line_and_the_deep_one_does_not_overflow_the_stack()
    {
        var query = new DetectedFieldsQuery([Source()]);
        var selector = LogQLParser.ParseLogSelector("{app=\"deep\"}");

        var fields = query.Fields("fake", selector, Start, Start + (10 * Second), 1000, 1000, CancellationToken.None);
        var values = query.Values("fake", selector, Start, Start + (10 * Second), 1000, "level", 1000, CancellationToken.None);

        var json = fields.Where(static f => f.Parsers is ["json"]).Select(static f => f.Label + "=" + string.Join('.', f.JsonPath ?? [])).ToList();
        Assert.Equal(["a_b=a.b", "level=level"], json);
        Assert.Equal(["info"], values);
    }

    [Fact]
    public void Patterns_mine_both_lines()
    {
        var patterns = new PatternsQuery([Source()]).Patterns("fake", LogQLParser.ParseLogSelector("{app=\"deep\"}"), Start, Start + (10 * Second),
            10 * Second, CancellationToken.None);

        Assert.Equal(2, patterns.Count);
    }
}

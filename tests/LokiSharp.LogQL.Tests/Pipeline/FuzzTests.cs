using System.Reflection;
using System.Text;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>
/// Mutation fuzzing with a fixed seed, from the templates and JSON lines the other tests use: whatever the input,
/// nothing escapes but the template's own error types, and what comes out is bounded.
/// </summary>
public sealed class FuzzTests
{
    private const int Seed = 20_240_501;
    private const int Rounds = 2_000;

    // The strings of every [InlineData] of the given test classes that look like the wanted input.
    private static List<string> SeedsFrom(Func<string, bool> wanted, params Type[] classes)
    {
        var seeds = new List<string>();
        foreach (var method in classes.SelectMany(static c => c.GetMethods()))
        {
            foreach (var data in method.GetCustomAttributes<InlineDataAttribute>().SelectMany(a => a.GetData(method)))
            {
                seeds.AddRange(data.OfType<string>().Where(wanted));
            }
        }

        return seeds;
    }

    private sealed class MapData(Dictionary<string, string> map) : ITemplateData
    {
        public string? Get(string name) => map.TryGetValue(name, out var v) ? v : null;

        public IEnumerable<KeyValuePair<string, string>> Pairs => map;
    }

    private static readonly string[] TemplateTokens =
    [
        "{{", "}}", "{{-", "-}}", "(", ")", " | ", "$", "$x", ":=", "=", ".", ".msg", ".json", ".n", " ", "\"", "`", "\\", "'a'",
        "1", "-1", "0x10", "1.5e3", "1000000000", "9223372036854775807", "%", "%s", "%d", "%*s", "%.*f", "%100000000s",
        "%1048577s", "%-5v", "if ", "else ", "range ", "with ", "end", "break", "continue", "nil", "true", "printf ",
        "repeat ", "indent ", "nindent ", "alignLeft ", "replace ", "Replace ", "regexReplaceAll ", "fromJson ", "index ",
        "slice ", "len ", "print ", "html ", "js ", "urlquery ", "default ", "date ", "toDate ", "trunc ", "substr ",
        "__line__", "__timestamp__", "/*", "*/", "\n", "é", "😀",
    ];

    private static string MutateText(string text, Random random, IReadOnlyList<string> seeds)
    {
        var sb = new StringBuilder(text);
        var edits = random.Next(1, 5);
        for (var e = 0; e < edits; e++)
        {
            var at = sb.Length == 0 ? 0 : random.Next(sb.Length + 1);
            switch (random.Next(6))
            {
                case 0:
                    sb.Insert(at, TemplateTokens[random.Next(TemplateTokens.Length)]);
                    break;
                case 1 when sb.Length > 0:
                    sb.Remove(Math.Min(at, sb.Length - 1), Math.Min(random.Next(1, 8), sb.Length - Math.Min(at, sb.Length - 1)));
                    break;
                case 2 when sb.Length > 0:
                    {
                        // Repeat a span: nests or lengthens whatever it holds.
                        var start = random.Next(sb.Length);
                        var span = sb.ToString(start, Math.Min(random.Next(1, 16), sb.Length - start));
                        sb.Insert(start, string.Concat(Enumerable.Repeat(span, random.Next(2, 40))));
                        break;
                    }

                case 3:
                    {
                        var other = seeds[random.Next(seeds.Count)];
                        sb.Insert(at, other[random.Next(other.Length + 1)..]);
                        break;
                    }

                case 4 when sb.Length > 0:
                    sb[Math.Min(at, sb.Length - 1)] = (char)random.Next(32, 127);
                    break;
                default:
                    sb.Length = Math.Min(sb.Length, at);
                    break;
            }
        }

        return sb.ToString();
    }

    [Fact]
    public void Random_templates_fail_only_with_template_errors_and_stay_within_the_limit()
    {
        const int limit = 64 * 1024;
        var seeds = SeedsFrom(static s => s.Contains("{{", StringComparison.Ordinal),
            typeof(TemplateEngineTests), typeof(TemplateLimitTests), typeof(FormatStageTests));
        Assert.True(seeds.Count > 50, "too few seed templates: " + seeds.Count);
        var data = new MapData(new()
        {
            ["level"] = "info",
            ["msg"] = "Hello World",
            ["n"] = "42",
            ["json"] = "{\"a\":{\"b\":[1,\"two\"]},\"s\":\"x\"}",
            ["empty"] = string.Empty,
        });
        var random = new Random(Seed);
        var parsed = 0;

        for (var round = 0; round < Rounds; round++)
        {
            var text = MutateText(seeds[random.Next(seeds.Count)], random, seeds);
            GoTemplate template;
            try
            {
                template = GoTemplate.Parse("line", text);
            }
            catch (TemplateParseException)
            {
                continue;
            }

            parsed++;
            var output = new StringBuilder();
            var context = new TemplateContext { TimestampNs = 1_700_000_000_000_000_000, OutputLimit = limit };
            context.SetLine(static () => "the line");
            try
            {
                template.Execute(output, data, context);
            }
            catch (TemplateExecutionException)
            {
                // The line would be marked TemplateFormatErr.
            }
            catch (Exception e)
            {
                Assert.Fail($"round {round}: {e.GetType().Name} escaped for template {Show(text)}: {e}");
            }

            Assert.True(output.Length <= limit, $"round {round}: {output.Length} characters from {Show(text)}");
        }

        Assert.True(parsed > Rounds / 10, "too few mutants parsed to exercise execution: " + parsed);
    }

    private static string Show(string text) => text.Length > 300 ? text[..300] + "..." : text;

    private static readonly byte[] JsonBytes = "{}[]\":,\\ntu0"u8.ToArray();

    private static byte[] MutateBytes(byte[] line, Random random, IReadOnlyList<byte[]> seeds)
    {
        var bytes = new List<byte>(line);
        var edits = random.Next(1, 6);
        for (var e = 0; e < edits; e++)
        {
            var at = random.Next(bytes.Count + 1);
            switch (random.Next(8))
            {
                case 0:
                    bytes.Insert(at, JsonBytes[random.Next(JsonBytes.Length)]);
                    break;
                case 1:
                    // Invalid UTF-8: a lone continuation byte, a truncated sequence, an encoded surrogate.
                    bytes.InsertRange(at, random.Next(3) switch { 0 => [0xff], 1 => [0xc3], _ => [0xed, 0xa0, 0x80] });
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveRange(Math.Min(at, bytes.Count - 1), Math.Min(random.Next(1, 6), bytes.Count - Math.Min(at, bytes.Count - 1)));
                    break;
                case 3:
                    // Truncation: strings, objects and escapes cut short.
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4:
                    {
                        // Deep nesting, sometimes far past the limit.
                        var levels = random.Next(2) == 0 ? random.Next(1, 200) : random.Next(1_000, 20_000);
                        var open = random.Next(3) switch { 0 => "{\"a\":"u8.ToArray(), 1 => "["u8.ToArray(), _ => "{\"a\":["u8.ToArray() };
                        bytes.InsertRange(at, Enumerable.Repeat(open, levels).SelectMany(static b => b));
                        break;
                    }

                case 5:
                    bytes.InsertRange(at, random.Next(3) switch { 0 => "\\u"u8.ToArray(), 1 => "\\ud83d"u8.ToArray(), _ => "\"_entry\":\"x\","u8.ToArray() });
                    break;
                case 6:
                    {
                        var other = seeds[random.Next(seeds.Count)];
                        bytes.InsertRange(at, other.Skip(random.Next(other.Length + 1)));
                        break;
                    }

                default:
                    if (bytes.Count > 0)
                    {
                        bytes[Math.Min(at, bytes.Count - 1)] = (byte)random.Next(256);
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    [Fact]
    public void Random_json_lines_go_through_json_and_unpack_without_exceptions_and_with_bounded_output()
    {
        var seeds = SeedsFrom(static s => s.TrimStart().StartsWith('{') || s.StartsWith('['), typeof(ParserStageTests), typeof(ParserSequenceTests))
            .Append(JsonDepthTests.DeepLine(200))
            .Append("{\"_entry\":\"packed \\\"line\\\"\",\"k\":\"v\",\"o\":{\"x\":[1,{\"y\":\"z\"}]}}")
            .Select(static s => Encoding.UTF8.GetBytes(s))
            .ToList();
        Assert.True(seeds.Count > 20, "too few seed lines: " + seeds.Count);
        var pipelines = new[]
        {
            "{app=\"web\"} | json",
            "{app=\"web\"} | json | a_b=\"x\"",
            "{app=\"web\"} | json a=\"a\", b=\"a.b[0]\", c=\"[\\\"k\\\"]\"",
            "{app=\"web\"} | unpack",
            "{app=\"web\"} | unpack | json",
        }.Select(static q => PipelineRunner.Compile(q)).ToArray();
        var random = new Random(Seed);

        for (var round = 0; round < Rounds; round++)
        {
            var line = MutateBytes(seeds[random.Next(seeds.Count)], random, seeds);
            foreach (var pipeline in pipelines)
            {
                EntryOutcome outcome;
                try
                {
                    outcome = PipelineRunner.Run(pipeline, line);
                }
                catch (Exception e)
                {
                    Assert.Fail($"round {round}: {e.GetType().Name} for line {ShowBytes(line)}: {e}");
                    throw;
                }

                // Nothing grows: the line is kept or unpacked from itself, and every label comes out of the line (the
                // runner decodes invalid UTF-8 as one character per byte, so characters are compared with bytes).
                Assert.True(outcome.Line.Length <= line.Length, $"round {round}: line grew from {ShowBytes(line)}");
                if (outcome.Result is { } result)
                {
                    var pairs = result.All.AsSpan().ToArray();
                    Assert.True(pairs.Length <= line.Length + 8, $"round {round}: {pairs.Length} labels from {ShowBytes(line)}");
                    Assert.All(pairs, pair => Assert.True(pair.Value.Length <= Math.Max(line.Length, 200),
                        $"round {round}: label {pair.Name} of {pair.Value.Length} characters from {ShowBytes(line)}"));
                }
            }
        }
    }

    private static string ShowBytes(byte[] line) => Convert.ToHexString(line.AsSpan(0, Math.Min(line.Length, 200)));
}

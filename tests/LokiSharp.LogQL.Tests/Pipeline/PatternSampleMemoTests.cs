using System.Text;
using LokiSharp.LogQL.Ast;
using LokiSharp.LogQL.Pipeline;
using LokiSharp.LogQL.Syntax;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>
/// A lone pattern parser under a grouped count or bytes aggregation remembers each stream's sample labels by the bytes of the
/// captures they keep: every entry must get what a fresh extractor (which has remembered nothing) gives it.
/// </summary>
public sealed class PatternSampleMemoTests
{
    private const string Nginx = "<_> \"<_> <_> <_>\" <status> <_>";

    private static readonly string[] Lines =
    [
        "10.0.0.1 - - [24/Nov/2026:10:13:13 +0000] \"GET / HTTP/1.1\" 200 79586 \"-\" \"Mozilla\"",
        "10.0.0.2 - - [24/Nov/2026:10:13:13 +0000] \"PUT /api HTTP/1.1\" 404 12 \"-\" \"curl\"",
        "10.0.0.1 - - [24/Nov/2026:10:13:14 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"Mozilla\"",
        "10.0.0.3 - - [24/Nov/2026:10:13:14 +0000] \"GET /é HTTP/1.1\" 5é0 1 \"-\" \"日本\"",
        "10.0.0.3 - - [x] \"GET /日本 HTTP/1.1\" 日本 7",
        "10.0.0.4 - - [x] \"GET / HTTP/1.1\" 500",
        "10.0.0.4 - - [x] \"GET / HTTP/1.1\"  9",
        "10.0.0.5 no quote at all 200 5",
        "10.0.0.5 - - [x] \"GET\" 200 5",
        "[warn] 10.0.0.6 - 301 x",
        "[warn] status",
        "[error] ",
        "plain",
        "",
        " ",
        "  ",
        "10.0.0.7 - - [x] \"GET / HTTP/1.1\" " + new string('7', 254) + " 1",
        "10.0.0.7 - - [x] \"GET / HTTP/1.1\" " + new string('7', 255) + " 1",
        "10.0.0.7 - - [x] \"GET / HTTP/1.1\" " + new string('7', 300) + " 1",
    ];

    // Lines with bytes that are not UTF-8 (decoded with replacement characters, so distinct bytes can give one label value).
    private static readonly byte[][] RawLines =
    [
        [.. "1 \"a b c\" "u8, 0xFF, .. " 1"u8],
        [.. "1 \"a b c\" "u8, 0xFE, .. " 1"u8],
        [.. "1 \"a b c\" "u8, 0xC3, .. " 1"u8],
        [.. "1 \"a b c\" 2"u8, 0x80, .. "0 1"u8],
    ];

    public static TheoryData<string, string, string> Cases => new()
    {
        { "count_over_time({app=\"web\"} | pattern \"" + Escape(Nginx) + "\" [1m])", "status", "{app=\"web\", env=\"prod\"}" },
        { "bytes_over_time({app=\"web\"} | pattern \"" + Escape(Nginx) + "\" [1m])", "status", "{app=\"web\", env=\"prod\"}" },
        { "count_over_time({app=\"web\"} | pattern \"" + Escape(Nginx) + "\" [1m])", "status,app", "{app=\"web\", env=\"prod\"}" },
        { "count_over_time({app=\"web\"} | pattern \"" + Escape(Nginx) + "\" [1m])", "app", "{app=\"web\", env=\"prod\"}" },
        { "count_over_time({app=\"web\"} | pattern \"" + Escape(Nginx) + "\" [1m])", "", "{app=\"web\", env=\"prod\"}" },
        { "count_over_time({app=\"web\"} | pattern \"" + Escape(Nginx) + "\" [1m])", "status", "{app=\"web\", status=\"stream\"}" },
        { "count_over_time({app=\"web\"} | pattern \"" + Escape(Nginx) + "\" [1m])", "status_extracted", "{app=\"web\", status=\"stream\"}" },
        { "count_over_time({app=\"web\"} | pattern \"" + Escape(Nginx) + "\" [1m])", "status,status_extracted", "{app=\"web\", status=\"stream\"}" },
        { "count_over_time({app=\"web\"} | pattern \"<ip> <_> \\\"<_> <_> <_>\\\" <status> <size> <_>\" [1m])", "status", "{app=\"web\"}" },
        { "count_over_time({app=\"web\"} | pattern \"<ip> <_> \\\"<_> <_> <_>\\\" <status> <size> <_>\" [1m])", "size,ip", "{app=\"web\"}" },
        { "count_over_time({app=\"web\"} | pattern \"[<level>] <_> - <code> <_>\" [1m])", "level,code", "{app=\"web\"}" },
        { "count_over_time({app=\"web\"} | pattern \"[<level>] <_>\" [1m])", "level", "{app=\"web\"}" },
        { "count_over_time({app=\"web\"} | pattern \"<status>\" [1m])", "status", "{app=\"web\"}" },
        { "count_over_time({app=\"web\"} | pattern \"<_> <status>\" [1m])", "status", "{app=\"web\"}" },
        { "count_over_time({app=\"web\"} | pattern \"<__error__> <_>\" [1m])", "app", "{app=\"web\"}" },
        { "count_over_time({app=\"web\"} | pattern \"<_> <__error_details__> <_>\" [1m])", "app", "{app=\"web\"}" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_entry_gets_the_labels_a_fresh_extractor_gives_it(string query, string by, string stream)
    {
        var lines = Lines.Select(Encoding.UTF8.GetBytes).Concat(RawLines).ToList();
        var shared = Compile(query, by).ForStream(LabelSetParser.Parse(stream));

        // Several rounds, so later ones find what the first remembered, in an order that alternates values line by line.
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < lines.Count; i++)
            {
                var line = lines[round == 1 ? lines.Count - 1 - i : i];
                var expected = Run(Compile(query, by).ForStream(LabelSetParser.Parse(stream)), line);
                Assert.Equal(expected, Run(shared, line));
            }
        }
    }

    [Fact]
    public void Structured_metadata_takes_the_general_path()
    {
        // Metadata may take a capture's name (it is then written with the suffix), which the memo's key does not see.
        var shared = Compile("count_over_time({app=\"web\"} | pattern \"<_> <status>\" [1m])", "status,status_extracted")
            .ForStream(LabelSetParser.Parse("{app=\"web\"}"));
        Assert.Equal("{status=\"200\"}", Run(shared, "a 200"u8.ToArray()).Labels);
        Assert.True(shared.Process(0, "a 200"u8, [new("status", "meta")], out _, out var labels));
        Assert.Equal("{status=\"meta\", status_extracted=\"200\"}", labels.All.ToString());
        Assert.Equal("{status=\"200\"}", Run(shared, "a 200"u8.ToArray()).Labels);
    }

    [Fact]
    public void Keys_that_never_repeat_still_give_every_entry_its_own_labels()
    {
        // A kept id is a new key on every line: past the first thousand lines the stream stops remembering.
        const string query = "count_over_time({app=\"web\"} | pattern \"<id> <status>\" [1m])";
        var shared = Compile(query, "id,status").ForStream(LabelSetParser.Parse("{app=\"web\"}"));
        for (var i = 0; i < 3000; i++)
        {
            var line = Encoding.UTF8.GetBytes("req" + i + " " + (200 + (i % 3)));
            Assert.Equal("{id=\"req" + i + "\", status=\"" + (200 + (i % 3)) + "\"}", Run(shared, line).Labels);
        }
    }

    private static SampleExtractor Compile(string query, string by)
    {
        var expr = (RangeAggregationExpr)LogQLParser.ParseSampleExpr(query);
        var names = by.Length == 0 ? EquatableArray<string>.Empty : new EquatableArray<string>(by.Split(','));
        return SampleExtractor.Compile(expr.Op, expr.Range, new Grouping(false, names));
    }

    private static (bool Ok, double Value, string Labels) Run(StreamSampleExtractor extractor, byte[] line)
    {
        var ok = extractor.Process(0, line, default, out var value, out var labels);
        return (ok, value, ok ? labels.All.ToString() : string.Empty);
    }

    private static string Escape(string pattern) => pattern.Replace("\"", "\\\"", StringComparison.Ordinal);
}

using System.Text;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>
/// The pattern stage's captures against the rules written plainly (a leading literal must start the line, each capture
/// runs to the next literal or the end, a missing literal ends extraction with the capture taking the rest): random
/// patterns and lines, with literals sharing first bytes, several bytes long, one-byte
/// literals, multi-byte characters, captures at line ends and lines of a few hundred bytes.
/// </summary>
public sealed class PatternCaptureTests
{
    private static readonly string[] Literals = [" ", "\"", "\" ", " - ", "::", ":", "ab", "é", "=", "[", "]", "/", "|", ",", ";"];
    private const string LineAlphabet = "ab -\":=[]/é|,;xyz0123456789";

    [Fact]
    public void RandomPatternsExtractWhatAPlainSearchExtracts()
    {
        var random = new Random(20_261_207);
        var checkedLabels = 0;
        for (var round = 0; round < 400; round++)
        {
            var (text, leading, captures) = RandomPattern(random, manyLiterals: round % 10 == 9);
            var pipeline = PipelineRunner.Compile("{app=\"web\"} | pattern `" + text + "`");
            for (var n = 0; n < 10; n++)
            {
                var line = RandomLine(random, captures, leading);
                var expected = Expected(line, leading, captures);
                var outcome = PipelineRunner.Run(pipeline, Encoding.UTF8.GetBytes(line));
                Assert.True(outcome.Kept);
                foreach (var (name, _) in captures)
                {
                    if (name is not null)
                    {
                        Assert.True(expected.GetValueOrDefault(name) == outcome.Label(name),
                            $"pattern `{text}`, line `{line}`: {name} expected {expected.GetValueOrDefault(name) ?? "(none)"}, got {outcome.Label(name) ?? "(none)"}");
                    }
                }

                Assert.Equal(expected.Count + 1, outcome.Result!.All.Count);
                checkedLabels += expected.Count;
            }
        }

        Assert.True(checkedLabels > 4_000, "too few labels extracted: " + checkedLabels);
    }

    [Fact]
    public void AlternatingShortValuesAreDecodedOnceEach()
    {
        // Status codes alternate line by line; each value's string is made once and then shared by every line with it.
        string[] statuses = ["200", "301", "304", "400", "403", "404", "500", "502", "503", "204", "302", "401"];
        var pipeline = PipelineRunner.Compile("{app=\"web\"} | pattern `<_> \"<_> <_> <_>\" <status> <_>`");
        var first = new Dictionary<string, string>();
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var status = statuses[random.Next(i < 1000 ? 8 : statuses.Length)];
            var line = $"10.0.0.{i % 9} - - [24/Nov/2026:10:00:00 +0000] \"GET /p/{i} HTTP/1.1\" {status} {i * 7} \"-\"";
            var got = PipelineRunner.Run(pipeline, Encoding.UTF8.GetBytes(line)).Label("status");
            Assert.Equal(status, got);
            if (i < 1000 && !first.TryAdd(status, got!))
            {
                Assert.Same(first[status], got);
            }
        }
    }

    // A pattern of captures (named c0, c1... or unnamed) each followed by a literal, the last one maybe by none.
    private static (string Text, string? Leading, List<(string? Name, string? Following)> Captures) RandomPattern(Random random, bool manyLiterals)
    {
        var leading = random.Next(4) == 0 ? Literals[random.Next(Literals.Length)] : null;
        var count = manyLiterals ? 10 : 1 + random.Next(6);
        var captures = new List<(string?, string?)>();
        var text = new StringBuilder(leading);
        for (var i = 0; i < count; i++)
        {
            var name = i == 0 || random.Next(3) != 0 ? "c" + i : null;
            var following = manyLiterals ? Literals[i + 5] : i == count - 1 && random.Next(2) == 0 ? null : Literals[random.Next(Literals.Length)];
            captures.Add((name, following));
            text.Append('<').Append(name ?? "_").Append('>').Append(following);
        }

        return (text.ToString(), leading, captures);
    }

    // Mostly lines built along the pattern (so literals are found), some of random bytes, lengths up to a few hundred.
    private static string RandomLine(Random random, List<(string? Name, string? Following)> captures, string? leading)
    {
        var line = new StringBuilder();
        if (leading is not null && random.Next(5) != 0)
        {
            line.Append(leading);
        }

        foreach (var (_, following) in captures)
        {
            for (var n = random.Next(random.Next(2) == 0 ? 8 : 90); n > 0; n--)
            {
                line.Append(LineAlphabet[random.Next(LineAlphabet.Length)]);
            }

            if (random.Next(6) != 0)
            {
                line.Append(following);
            }
        }

        return line.ToString();
    }

    // The pattern stage's rules with a plain search from each offset.
    private static Dictionary<string, string> Expected(string line, string? leading, List<(string? Name, string? Following)> captures)
    {
        var labels = new Dictionary<string, string>();
        var bytes = Encoding.UTF8.GetBytes(line);
        if (line.Length == 0)
        {
            return labels;
        }

        var offset = 0;
        if (leading is not null)
        {
            var lead = Encoding.UTF8.GetBytes(leading);
            if (!bytes.AsSpan().StartsWith(lead))
            {
                return labels;
            }

            offset = lead.Length;
        }

        var lastNamed = captures.FindLastIndex(static c => c.Name is not null);
        for (var c = 0; c <= lastNamed; c++)
        {
            var (name, following) = captures[c];
            var literal = following is null ? null : Encoding.UTF8.GetBytes(following);
            var i = literal is null ? -1 : bytes.AsSpan(offset).IndexOf(literal);
            var value = i < 0 ? bytes.AsSpan(offset) : bytes.AsSpan(offset, i);
            if (name is not null)
            {
                labels.TryAdd(name, Encoding.UTF8.GetString(value));
            }

            if (i < 0)
            {
                break;
            }

            offset += i + literal!.Length;
        }

        return labels;
    }
}

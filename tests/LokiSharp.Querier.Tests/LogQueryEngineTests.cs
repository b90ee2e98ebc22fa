using LokiSharp.LogQL.Labels;
using LokiSharp.LogQL.Syntax;
using LokiSharp.Querier.Logs;
using LokiSharp.Storage.Reading;

namespace LokiSharp.Querier.Tests;

/// <summary>The log query engine over in-memory sources: merging, duplicates, limit and direction, pages, context.</summary>
public sealed class LogQueryEngineTests
{
    private const string Tenant = "t";
    private const long Second = 1_000_000_000;
    private const long Start = 1_700_000_000 * Second;

    private static readonly LabelSet A = LabelSet.From(("app", "a"));
    private static readonly LabelSet B = LabelSet.From(("app", "b"));

    private static LogQuery Query(string selector, int limit, Direction direction, LogQueryExtras? extras = null) =>
        new(Tenant, LogQLParser.ParseLogSelector(selector), Start, Start + (3600 * Second), limit, direction) { Extras = extras ?? LogQueryExtras.None };

    private static LogQueryResult Run(IReadOnlyList<ILogSource> sources, LogQuery query) =>
        new LogQueryEngine(sources).Select(query, CancellationToken.None);

    private static List<(long, string)> At(params (int Second, string Line)[] entries) =>
        [.. entries.Select(e => (Start + (e.Second * Second), e.Line))];

    private static List<string> Lines(LogQueryResult result) => [.. result.Entries.Select(e => e.Line)];

    [Fact]
    public void An_entry_in_both_the_head_and_the_store_is_returned_once()
    {
        var head = new ChunkSource();
        var store = new ChunkSource();
        head.Add(A, At((3, "three"), (4, "four"), (5, "five")));
        store.Add(A, At((1, "one"), (2, "two"), (3, "three"), (4, "four")));
        store.Add(B, At((3, "three")));

        var backward = Run([head, store], Query("{app=~\"a|b\"}", 100, Direction.Backward));
        var forward = Run([head, store], Query("{app=~\"a|b\"}", 100, Direction.Forward));

        Assert.Equal(["five", "four", "three", "three", "two", "one"], Lines(backward));
        Assert.Equal(["one", "two", "three", "three", "four", "five"], Lines(forward));
        Assert.Equal(2, backward.Stats.Duplicates);
        Assert.Equal(6, backward.Stats.EntriesReturned);

        // Duplicates are dropped before they are counted as processed.
        Assert.Equal(6, backward.Stats.TotalLinesProcessed);
        Assert.Equal([A, B], [backward.Entries[2].Labels.Stream, backward.Entries[3].Labels.Stream]);
    }

    [Fact]
    public void The_limit_keeps_the_newest_lines_backward_and_the_oldest_forward()
    {
        var source = new ChunkSource();
        source.Add(A, At((1, "a1"), (3, "a3"), (5, "a5")));
        source.Add(B, At((2, "b2"), (4, "b4"), (6, "b6")));

        Assert.Equal(["b6", "a5", "b4"], Lines(Run([source], Query("{app=~\"a|b\"}", 3, Direction.Backward))));
        Assert.Equal(["a1", "b2", "a3"], Lines(Run([source], Query("{app=~\"a|b\"}", 3, Direction.Forward))));
        Assert.Equal(["a5", "a3"], Lines(Run([source], Query("{app=~\"a|b\"} != \"b\"", 2, Direction.Backward))));
    }

    [Fact]
    public void Pages_break_ties_on_equal_timestamps_by_stream_labels_and_resume_where_they_stopped()
    {
        var source = new ChunkSource();

        // Stream b is found first, but at equal timestamps a pages before b.
        source.Add(B, At((2, "b2"), (3, "b3")));
        source.Add(A, At((1, "a1"), (2, "a2"), (2, "a2'"), (3, "a3")));
        var first = new LogQueryExtras { Paginate = true };

        var pages = new List<List<string>>();
        var cursors = new List<string?>();
        var extras = first;
        for (var i = 0; i < 10; i++)
        {
            var page = Run([source], Query("{app=~\"a|b\"}", 2, Direction.Forward, extras));
            Assert.True(page.Paginated);
            pages.Add(Lines(page));
            cursors.Add(page.Next?.ToString());
            if (page.Next is null)
            {
                break;
            }

            extras = new LogQueryExtras { Paginate = true, After = page.Next };
        }

        Assert.Equal([["a1", "a2"], ["a2'", "b2"], ["a3", "b3"]], pages);
        Assert.Equal([$"{Start + (2 * Second)}:1", $"{Start + (2 * Second)}:3", null], cursors);
    }

    [Theory]
    [InlineData(Direction.Forward)]
    [InlineData(Direction.Backward)]
    public void Pages_put_together_are_the_whole_answer(Direction direction)
    {
        var source = new ChunkSource();
        source.Add(B, At((1, "b1"), (2, "b2"), (2, "b2'"), (4, "b4")));
        source.Add(A, At((1, "a1"), (2, "a2"), (3, "a3"), (4, "a4"), (4, "a4'")));
        var whole = Lines(Run([source], Query("{app=~\"a|b\"}", 100, direction, new LogQueryExtras { Paginate = true })));

        var paged = new List<string>();
        var extras = new LogQueryExtras { Paginate = true };
        for (var i = 0; i < 20; i++)
        {
            var page = Run([source], Query("{app=~\"a|b\"}", 3, direction, extras));
            paged.AddRange(Lines(page));
            if (page.Next is null)
            {
                break;
            }

            extras = new LogQueryExtras { Paginate = true, After = page.Next };
        }

        Assert.Equal(9, whole.Count);
        Assert.Equal(whole, paged);
    }

    [Fact]
    public void Without_paging_there_is_no_cursor()
    {
        var source = new ChunkSource();
        source.Add(A, At((1, "a1"), (2, "a2"), (3, "a3")));

        var result = Run([source], Query("{app=\"a\"}", 2, Direction.Forward));

        Assert.False(result.Paginated);
        Assert.Null(result.Next);
    }

    [Theory]
    [InlineData(Direction.Forward, new[] { "l3", "l4", "l5", "l6" })]
    [InlineData(Direction.Backward, new[] { "l6", "l5", "l4", "l3" })]
    public void Context_lines_come_from_the_same_stream_around_each_match(Direction direction, string[] expected)
    {
        var source = new ChunkSource();
        source.Add(A, At([.. Enumerable.Range(0, 10).Select(i => (i, "l" + i))]));
        source.Add(B, At((4, "l4 of b"), (5, "other")));

        var result = Run([source], Query("{app=~\"a|b\"} |= \"l5\"", 100, direction, new LogQueryExtras { ContextBefore = 2, ContextAfter = 1 }));

        Assert.Equal(expected, Lines(result));
        Assert.All(result.Entries, e => Assert.Equal(A, e.Labels.Stream));
    }

    [Fact]
    public void Context_lines_do_not_count_against_the_limit()
    {
        var source = new ChunkSource();
        source.Add(A, At([.. Enumerable.Range(0, 10).Select(i => (i, i % 3 == 0 ? "hit" + i : "l" + i))]));

        var result = Run([source], Query("{app=\"a\"} |= \"hit\"", 2, Direction.Forward, new LogQueryExtras { ContextBefore = 1, ContextAfter = 1 }));

        Assert.Equal(["hit0", "l1", "l2", "hit3", "l4"], Lines(result));
    }
}

using System.Text;
using LokiSharp.Ingester.Distribution;
using LokiSharp.Ingester.Head;
using LokiSharp.Ingester.Push;
using LokiSharp.Storage.Chunks;
using LokiSharp.Storage.Codecs;

namespace LokiSharp.Ingester.Tests;

/// <summary>
/// Which way the head orders an unsorted tail: run by run when its runs do not overlap in time, every entry sorted when
/// they do or when there are too many to keep. The order itself is checked through the ingester
/// (<c>WalAndHeadTests.Pushes_of_a_stream_that_overtake_each_other_are_compressed_in_time_then_arrival_order</c>).
/// </summary>
public sealed class HeadRunTests
{
    private static readonly byte[] Line = Encoding.UTF8.GetBytes(new string('r', 40));

    [Theory]
    [InlineData(10, 8, true, 1)] // pushes apart in time, sent out of order
    [InlineData(8, 8, true, 1)] // each push starts right after the last timestamp of the push before it in time
    [InlineData(7, 8, true, 0)] // each starts at that timestamp, but every other one arrived first: a tie must go by arrival
    [InlineData(5, 8, true, 0)] // pushes overlapping in time
    [InlineData(10, 2, false, 1)] // entries appended one by one: a step back starts a run
    [InlineData(10, 8, false, 0)] // without run starts, a push that does not step back joins the run before it, which then overlaps the next
    [InlineData(10, 300, true, 0)] // more runs than are kept
    public void An_unsorted_tail_is_ordered_run_by_run_only_when_its_runs_do_not_overlap(int step, int pushes, bool startRuns, int byRuns)
    {
        var block = new HeadBlock(1 << 20, null);
        using var builders = new ChunkBuilderPool(() => new ChunkBuilder(ChunkEncoding.Snappy));

        // Pushes of 8 entries, sent in pairs swapped: 1, 0, 3, 2, ...
        for (var pair = 0; pair < pushes; pair += 2)
        {
            foreach (var push in (int[])[pair + 1, pair])
            {
                if (startRuns)
                {
                    block.StartRun();
                }

                for (var i = 0; i < 8; i++)
                {
                    block.Append(1_000 + (push * step) + Math.Min(i, 7), Line, [], 1, 0, 0, builders);
                }
            }
        }

        block.Seal(builders);
        Assert.Equal(pushes * 8, block.EntryCount);
        Assert.Equal(byRuns, block.TailsOrderedByRuns);
    }

    [Fact]
    public void Runs_that_touch_are_ordered_run_by_run_when_the_later_one_arrived_later()
    {
        // 1000-1007, then 2000-2007, then 1007-1014: the third steps back and starts at the first one's last timestamp,
        // having arrived after it, so the runs in time order are the stable sort.
        var block = new HeadBlock(1 << 20, null);
        using var builders = new ChunkBuilderPool(() => new ChunkBuilder(ChunkEncoding.Snappy));
        foreach (var first in (int[])[1000, 2000, 1007])
        {
            block.StartRun();
            for (var i = 0; i < 8; i++)
            {
                block.Append(first + i, Line, [], 1, 0, 0, builders);
            }
        }

        block.Seal(builders);
        Assert.Equal(1, block.TailsOrderedByRuns);
    }

    [Fact]
    public void A_push_appended_at_once_leaves_the_block_as_its_entries_appended_one_by_one()
    {
        // Pushes of entries with their own metadata and with a shared array's, stepping back in time, into parts of 4 KB so
        // that tails are compressed in the middle of a push: parts, record ids, WAL segment, times and sizes must be alike.
        var rng = new Random(8);
        var (byPush, byEntry) = (new HeadBlock(4096, null), new HeadBlock(4096, null));
        using var builders = new ChunkBuilderPool(() => new ChunkBuilder(ChunkEncoding.Snappy));
        for (var push = 1; push <= 12; push++)
        {
            using var batch = new PushBatch();
            batch.BeginStream("{app=\"web\"}");
            var entries = new List<ValidatedEntry>();
            var count = 1 + rng.Next(60);
            for (var i = 0; i < count; i++)
            {
                var timestamp = 1_000_000 + (push * 100) + rng.Next(-150, 100);
                batch.AddEntry(timestamp, $"push {push} entry {i} {new string('x', rng.Next(120))}");
                var added = batch.Entries[^1];
                entries.Add(rng.Next(3) == 0
                    ? new ValidatedEntry(timestamp, added.LineStart, added.LineLength, [new("trace_id", $"t{rng.Next(1000)}")])
                    : new ValidatedEntry(timestamp, added.LineStart, added.LineLength, [], rng.Next(PushValidator.SharedCount)));
            }

            var (record, segment, now) = (push * 3L, 40L - push, push * 1000L);
            byPush.StartRun();
            byPush.AppendPush(batch, entries, record, segment, now, builders);
            byEntry.StartRun();
            foreach (var entry in entries)
            {
                var line = batch.Bytes(entry.LineStart, entry.LineLength);
                if (entry.Shared >= 0)
                {
                    byEntry.AppendEncoded(entry.TimestampNs, line, PushValidator.SharedEncodingAt(entry.Shared), record, segment, now, builders);
                }
                else
                {
                    byEntry.Append(entry.TimestampNs, line, entry.Metadata, record, segment, now, builders);
                }
            }
        }

        Assert.True(byEntry.Parts.Count > 3, $"{byEntry.Parts.Count} parts");
        byPush.Seal(builders);
        byEntry.Seal(builders);
        Assert.Equal(byEntry.Parts.Select(p => Convert.ToHexString(p.Load())), byPush.Parts.Select(p => Convert.ToHexString(p.Load())));
        Assert.Equal(byEntry.RecordIds, byPush.RecordIds);
        Assert.Equal((byEntry.EntryCount, byEntry.RawBytes, byEntry.MinTimestamp, byEntry.MaxTimestamp, byEntry.OldestWalSegment, byEntry.CreatedAt),
            (byPush.EntryCount, byPush.RawBytes, byPush.MinTimestamp, byPush.MaxTimestamp, byPush.OldestWalSegment, byPush.CreatedAt));
    }
}

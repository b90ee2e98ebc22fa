using LokiSharp.Ruler.Evaluation;

namespace LokiSharp.Ruler.Tests;

public class GroupScheduleTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public void Slots_are_the_interval_multiples_shifted_by_the_groups_offset()
    {
        var schedule = new GroupSchedule("/rules/fake/app.yaml", "errors", Minute);
        var now = new DateTimeOffset(2026, 1, 1, 12, 0, 30, TimeSpan.Zero);

        var slot = schedule.SlotAtOrBefore(now);

        Assert.InRange(schedule.Offset, TimeSpan.Zero, Minute - TimeSpan.FromTicks(1));
        Assert.True(slot <= now && now - slot < Minute);
        Assert.Equal(schedule.Offset.Ticks, (slot - DateTimeOffset.UnixEpoch).Ticks % Minute.Ticks);
        Assert.Equal(slot + Minute, schedule.FirstSlotAfter(now));
        Assert.Equal(slot, schedule.SlotAtOrBefore(slot));
    }

    [Fact]
    public void The_offset_is_stable_and_differs_between_groups()
    {
        var a = new GroupSchedule("/rules/fake/app.yaml", "errors", Minute);
        var again = new GroupSchedule("/rules/fake/app.yaml", "errors", Minute);
        var b = new GroupSchedule("/rules/fake/app.yaml", "latency", Minute);

        Assert.Equal(a.Offset, again.Offset);
        Assert.NotEqual(a.Offset, b.Offset);
    }

    [Fact]
    public void A_late_evaluation_skips_to_the_latest_due_slot_and_counts_the_missed_ones()
    {
        var schedule = new GroupSchedule("f", "g", TimeSpan.FromSeconds(10));
        var slot = schedule.SlotAtOrBefore(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal(slot + TimeSpan.FromSeconds(10), schedule.Next(slot, slot + TimeSpan.FromSeconds(3), out var none));
        Assert.Equal(0, none);

        Assert.Equal(slot + TimeSpan.FromSeconds(40), schedule.Next(slot, slot + TimeSpan.FromSeconds(45), out var missed));
        Assert.Equal(3, missed);
    }
}
